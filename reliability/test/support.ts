import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { RegistryStore } from '@keyledger/core';
import { scanHex } from '../src/digest.js';

/** A fresh directory per call, removed after the file's tests. */
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

export async function rowsOf(store: RegistryStore): Promise<string> {
  return JSON.stringify(await scanHex(store));
}
