import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type RootDatabase, open } from 'lmdb';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@keyledger/core';
import { codeOf, rejectionCode, tempDirs } from '@keyledger/harness/adapter';
import { LMDB_REGISTRY_DB_NAME, LmdbRegistryStore } from '../src/index.js';

// An environment whose keyledger-registry sub-database keyledger did not make: each is refused at
// construction, and neither the sub-database's rows nor the environment's file change.
const freshDir = tempDirs('lmdb-foreign');
const KEY = Buffer.from('!encryption|writers|slot');
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const idle = () => new Promise((resolve) => setTimeout(resolve, 20));

/** The raw main database: named sub-databases are keys in it. */
const mainOf = (root: RootDatabase) => root.openDB({ name: null as unknown as string, keyEncoding: 'binary', encoding: 'binary' });

const FOREIGN: Record<string, (root: RootDatabase) => () => unknown> = {
  // dupSort keeps every value put under a key: one slot would hold several epochs, get the smallest.
  dupSort: (root) => {
    const db = root.openDB({ name: LMDB_REGISTRY_DB_NAME, keyEncoding: 'binary', encoding: 'binary', dupSort: true });
    db.transactionSync(() => {
      db.put(KEY, Buffer.from([3]));
      db.put(KEY, Buffer.from([9]));
    });
    return () => [...db.getValues(KEY)];
  },
  // reverseKey orders keys from their last byte: a prefix scan would miss rows.
  reverseKey: (root) => {
    const db = root.openDB({
      name: LMDB_REGISTRY_DB_NAME,
      keyEncoding: 'binary',
      encoding: 'binary',
      reverseKey: true,
    } as never) as ReturnType<RootDatabase['openDB']>;
    db.transactionSync(() => db.put(KEY, Buffer.from([1])));
    return () => [...db.getRange({})].map((e) => [...(e.key as Buffer), ...(e.value as Buffer)]);
  },
  integerKey: (root) => {
    const db = root.openDB({ name: LMDB_REGISTRY_DB_NAME, keyEncoding: 'uint32', encoding: 'binary' });
    db.transactionSync(() => db.put(7, Buffer.from([1])));
    return () => [...db.getRange({})].map((e) => [e.key, ...e.value]);
  },
  // Not a sub-database at all: a plain key of the same name in the main database.
  'a plain key of that name': (root) => {
    const main = mainOf(root);
    main.transactionSync(() => main.put(Buffer.from(`${LMDB_REGISTRY_DB_NAME}\0`), Buffer.from('mine')));
    return () => main.get(Buffer.from(`${LMDB_REGISTRY_DB_NAME}\0`));
  },
};

describe('LmdbRegistryStore › a keyledger-registry it did not make is refused', () => {
  for (const [what, make] of Object.entries(FOREIGN)) {
    it(`${what}: the constructor and open() refuse it with ERR_UNSUPPORTED_STORE, and nothing changes`, async () => {
      const path = join(freshDir(), 'env');
      const root = open(path, {});
      const contents = make(root);
      const before = contents();
      expect(codeOf(() => new LmdbRegistryStore(root))).toBe(ErrorCode.UNSUPPORTED_STORE);
      expect(contents()).toEqual(before);
      await idle();
      await root.close();
      const file = sha(join(path, 'data.mdb'));
      expect(await rejectionCode(LmdbRegistryStore.open(path))).toBe(ErrorCode.UNSUPPORTED_STORE);
      expect(await rejectionCode(LmdbRegistryStore.open(path, { create: false }))).toBe(ErrorCode.UNSUPPORTED_STORE);
      expect(sha(join(path, 'data.mdb'))).toBe(file);
    });
  }

  it('names the flags and what to do in the message', async () => {
    const root = open(freshDir(), {});
    FOREIGN.dupSort!(root);
    expect(() => new LmdbRegistryStore(root)).toThrow(/created with dupSort.*not made by keyledger.*drop it/);
    await idle();
    await root.close();
  });

  it('accepts the sub-database keyledger made (no flags), also when the root has others with flags', async () => {
    const path = join(freshDir(), 'env');
    const root = open(path, {});
    root.openDB({ name: 'mine', dupSort: true });
    const store = new LmdbRegistryStore(root);
    await store.write([{ key: KEY, value: Buffer.from([1]) }]);
    await store.close();
    await root.close();
    const again = await LmdbRegistryStore.open(path, { create: false });
    expect(await again.get(KEY)).toEqual(new Uint8Array([1]));
    await again.close();
  });

  it('create: false on an environment without keyledger-registry is ERR_STORE_NOT_FOUND, and leaves it as it was', async () => {
    const path = join(freshDir(), 'env');
    const root = open(path, {});
    await root.put('user-key', 'user-value');
    await idle();
    await root.close();
    const files = readdirSync(path);
    const file = sha(join(path, 'data.mdb'));
    expect(await rejectionCode(LmdbRegistryStore.open(path, { create: false }))).toBe(ErrorCode.STORE_NOT_FOUND);
    expect(readdirSync(path)).toEqual(files);
    expect(sha(join(path, 'data.mdb'))).toBe(file);
    // Still no sub-database: a second try answers the same.
    expect(await rejectionCode(LmdbRegistryStore.open(path, { create: false }))).toBe(ErrorCode.STORE_NOT_FOUND);
  });
});
