import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import type { AdapterStore, Row } from './codes.js';

/**
 * A maker of fresh temporary directories named `keyledger-<prefix>-[<tag>-]…`, all removed after
 * the calling test file's cases have run.
 */
export function tempDirs(prefix: string): (tag?: string) => string {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  return (tag) => {
    const d = mkdtempSync(join(tmpdir(), `keyledger-${prefix}-${tag === undefined ? '' : `${tag}-`}`));
    dirs.push(d);
    return d;
  };
}

/** The `code` that `fn` throws synchronously, or 'no error'. Constructors refuse synchronously. */
export function codeOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return (err as { code?: unknown }).code;
  }
  return 'no error';
}

/** The `code` of the error `promise` rejects with, or 'no error' (a store it resolves to is closed). */
export async function rejectionCode(promise: Promise<{ close(): Promise<void> }>): Promise<unknown> {
  try {
    await (await promise).close();
  } catch (err) {
    return (err as { code?: unknown }).code;
  }
  return 'no error';
}

/** Every entry of a scan, as plain numbers for readable assertions. */
export async function collect(it: AsyncIterable<Row>): Promise<[number[], number[]][]> {
  const out: [number[], number[]][] = [];
  for await (const e of it) out.push([[...e.key], [...e.value]]);
  return out;
}

export const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

/**
 * Writes two rows (a key the user's data also has, and the top key with an empty value) through a
 * store opened on a handle that already holds the user's data, and expects a scan of the whole
 * store to return exactly those two: the adapter keeps its rows apart from the user's.
 */
export async function expectOnlyOwnRows(
  store: Pick<AdapterStore, 'write'> & { scan(prefix: Uint8Array): AsyncIterable<Row> },
): Promise<void> {
  await store.write([
    { key: bytes(0x01), value: bytes(0xaa, 0x00) },
    { key: bytes(0xff), value: bytes() },
  ]);
  expect(await collect(store.scan(bytes()))).toEqual([
    [[0x01], [0xaa, 0x00]],
    [[0xff], []],
  ]);
}
