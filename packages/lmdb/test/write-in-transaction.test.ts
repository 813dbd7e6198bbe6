import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode, hasCode } from '@keyledger/core';
import { LmdbRegistryStore, type LmdbRootDatabase } from '../src/index.js';

// Inside an open write transaction of the user's, lmdb would fold the store's commit into theirs,
// which commits (and syncs) only later: a write acknowledged then could be lost. It is refused.
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const bytes = (...b: number[]) => new Uint8Array(b);

describe('LmdbRegistryStore write inside a write transaction', () => {
  it('write › rejects with ERR_STORE_IO inside the user’s transactionSync, and writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyledger-lmdb-txn-'));
    dirs.push(dir);
    const root = open(dir, {});
    const store = new LmdbRegistryStore(root as unknown as LmdbRootDatabase);
    let inner: Promise<void> | undefined;
    root.transactionSync(() => {
      inner = store.write([{ key: bytes(1), value: bytes(2) }]);
    });
    const err = await inner!.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(hasCode(err, ErrorCode.STORE_IO)).toBe(true);
    expect(await store.get(bytes(1))).toBeUndefined();
    // Outside a transaction the same write succeeds.
    await store.write([{ key: bytes(1), value: bytes(2) }]);
    expect(await store.get(bytes(1))).toEqual(bytes(2));
    await store.close();
    await root.close();
  });
});
