import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { Row } from './codes.js';

/**
 * A maker of fresh temporary directories named `keyledger-<prefix>-…`, all removed after the
 * calling test file's cases have run.
 */
export function tempDirs(prefix: string): () => string {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), `keyledger-${prefix}-`));
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
