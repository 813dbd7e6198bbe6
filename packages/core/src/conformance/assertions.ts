import { deepStrictEqual, ok } from 'node:assert/strict';
import { ErrorCode, hasCode, type KeyledgerErrorCode, type RegistryStore, type StoreEntry } from '../index.js';

export const te = (s: string): Uint8Array => new TextEncoder().encode(s);
export const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

export function hex(b: Uint8Array | undefined): string | undefined {
  return b === undefined ? undefined : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export async function scanAll(store: RegistryStore, prefix: Uint8Array = new Uint8Array(0)): Promise<StoreEntry[]> {
  const out: StoreEntry[] = [];
  for await (const e of store.scan(prefix)) out.push({ key: new Uint8Array(e.key), value: new Uint8Array(e.value) });
  return out;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  return typeof v;
}

/** Byte-exact comparison that prints hex on failure, so a report says which key differed. */
export function sameBytes(actual: Uint8Array | undefined, expected: Uint8Array | undefined, what: string): void {
  ok(actual === undefined || actual instanceof Uint8Array, `${what}: expected a Uint8Array or undefined, got ${describe(actual)}`);
  deepStrictEqual(hex(actual), hex(expected), `${what}: bytes differ`);
}

export function sameEntries(actual: StoreEntry[], expected: StoreEntry[], what: string): void {
  deepStrictEqual(
    actual.map((e) => `${hex(e.key)}=${hex(e.value)}`),
    expected.map((e) => `${hex(e.key)}=${hex(e.value)}`),
    what,
  );
}

/**
 * Asserts that `p` rejects with an error carrying `code` in its chain. A backend's contract
 * violation passes through untouched, so the runner can name it instead of a symptom.
 */
export async function rejectsWithCode(
  p: Promise<unknown> | (() => Promise<unknown>),
  code: KeyledgerErrorCode,
  what: string,
): Promise<unknown> {
  let error: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    error = err;
  }
  ok(error !== undefined, `${what}: expected a rejection with ${code}, but it resolved`);
  if (code !== ErrorCode.STORE_CONTRACT && hasCode(error, ErrorCode.STORE_CONTRACT)) throw error;
  ok(hasCode(error, code), `${what}: expected ${code}, got ${(error as { code?: string })?.code ?? String(error)}`);
  return error;
}
