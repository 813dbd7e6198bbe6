import { compareBytes, hexOf, startsWith } from '../bytes.js';
import { ErrorCode, KeyledgerError } from '../errors.js';
import { MAX_KEY_LENGTH, type StoreEntry } from './registry-store.js';

// Both sides of the store boundary, checked in one place: what a caller may pass in
// (ERR_INVALID_ARGUMENT, before anything reaches the backend) and what a backend may hand back
// (ERR_STORE_CONTRACT, naming what it should return instead). See docs/design.md, section
// 'Store contract'.

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === 'object') return `an object (${Object.prototype.toString.call(v)})`;
  return typeof v;
}

function invalid(message: string): KeyledgerError {
  return new KeyledgerError(ErrorCode.INVALID_ARGUMENT, message);
}

export function checkBytes(what: string, b: unknown): asserts b is Uint8Array {
  if (!(b instanceof Uint8Array)) throw invalid(`${what} must be a Uint8Array, got ${describeValue(b)}`);
}

export function checkKey(key: unknown): asserts key is Uint8Array {
  checkBytes('key', key);
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) throw invalid(`key length ${key.length} is outside 1..${MAX_KEY_LENGTH}`);
}

export function checkArray(what: string, v: unknown): asserts v is readonly unknown[] {
  if (!Array.isArray(v)) throw invalid(`${what} takes an array, got ${describeValue(v)}`);
}

export function checkPut(p: unknown): asserts p is StoreEntry {
  if (typeof p !== 'object' || p === null) throw invalid(`each put must be { key, value }, got ${describeValue(p)}`);
  checkKey((p as StoreEntry).key);
  checkBytes('value', (p as StoreEntry).value);
}

function broken(kind: string, message: string): KeyledgerError {
  return new KeyledgerError(ErrorCode.STORE_CONTRACT, `${kind} store backend: ${message}`);
}

/** A value from `_get` / `_getMany`: bytes, or `undefined` for a missing key and nothing else. */
export function checkReadValue(kind: string, operation: string, v: unknown): asserts v is Uint8Array | undefined {
  if (v === undefined || v instanceof Uint8Array) return;
  throw broken(
    kind,
    `_${operation} returned ${describeValue(v)}; return a Uint8Array for a present key and undefined (not null, not an empty array) for a missing one`,
  );
}

export function checkManyValues(kind: string, keys: number, values: unknown): asserts values is (Uint8Array | undefined)[] {
  if (!Array.isArray(values) || values.length !== keys) {
    throw broken(
      kind,
      `_getMany returned ${describeValue(values)} for ${keys} keys; return one value (or undefined) per key, in key order`,
    );
  }
  for (const v of values) checkReadValue(kind, 'getMany', v);
}

/** Follows a scan row by row: in range, in unsigned byte order, no key twice. */
export class ScanOrder {
  #previous: Uint8Array | undefined;
  constructor(
    private readonly kind: string,
    private readonly prefix: Uint8Array,
  ) {}

  check(row: unknown): asserts row is StoreEntry {
    const r = row as Partial<StoreEntry> | null;
    if (typeof r !== 'object' || r === null || !(r.key instanceof Uint8Array) || !(r.value instanceof Uint8Array)) {
      throw broken(this.kind, `_scan yielded ${describeValue(row)}; yield { key: Uint8Array, value: Uint8Array }`);
    }
    if (!startsWith(r.key, this.prefix)) {
      throw broken(this.kind, `_scan(${hexOf(this.prefix)}) yielded key ${hexOf(r.key)}, which does not start with the prefix`);
    }
    if (this.#previous !== undefined && compareBytes(this.#previous, r.key) >= 0) {
      throw broken(
        this.kind,
        `_scan yielded key ${hexOf(r.key)} after ${hexOf(this.#previous)}: keys must come in unsigned byte order (see \`compareBytes\`), each once`,
      );
    }
    this.#previous = r.key;
  }
}
