import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@keyledger/core';
import { describeRegistryStore } from '@keyledger/core/conformance';
import { bytes, codeOf, describeAdapter, expectOnlyOwnRows } from '@keyledger/harness/adapter';
import { LmdbRegistryStore } from '../src/index.js';

// The conformance suite and the cases every adapter shares first, then this adapter's own.
const { freshDir } = describeAdapter({
  name: 'LmdbRegistryStore',
  own: 'lmdb',
  shape: 'directory',
  testFile: import.meta.url,
  conformance: describeRegistryStore,
  openHandle: (dir) => open(join(dir, 'lmdb'), {}),
  construct: (root, options) => new LmdbRegistryStore(root as RootDatabase, options),
  closeHandle: (root) => root.close(),
  open: (path, options) => LmdbRegistryStore.open(path, options),
});

describe('LmdbRegistryStore › construction refusal', () => {
  it('refuses a closed root', async () => {
    const root = open(freshDir(), {});
    await root.close();
    expect(codeOf(() => new LmdbRegistryStore(root))).toBe(ErrorCode.UNSUPPORTED_STORE);
  });

  it('refuses a read-only root', async () => {
    const dir = freshDir();
    const rw = open(dir, {});
    await rw.put('x', 1);
    await rw.close();
    const ro = open(dir, { readOnly: true });
    try {
      expect(codeOf(() => new LmdbRegistryStore(ro))).toBe(ErrorCode.UNSUPPORTED_STORE);
    } finally {
      await ro.close();
    }
  });

  it('refuses a root opened with noSync, noMetaSync or mapAsync', async () => {
    for (const opts of [{ noSync: true }, { noMetaSync: true }, { useWritemap: true, mapAsync: true }]) {
      const root = open(freshDir(), opts as object);
      try {
        expect(
          codeOf(() => new LmdbRegistryStore(root)),
          JSON.stringify(opts),
        ).toBe(ErrorCode.UNSUPPORTED_STORE);
      } finally {
        await root.close();
      }
    }
  });

  it('refuses a temporary root (opened without a path)', async () => {
    const root = open({});
    try {
      expect(codeOf(() => new LmdbRegistryStore(root))).toBe(ErrorCode.UNSUPPORTED_STORE);
    } finally {
      await root.close();
    }
  });

  it('refuses a root with no room for another sub-database (maxDbs)', async () => {
    const root = open(freshDir(), { maxDbs: 1 });
    try {
      root.openDB({ name: 'mine' });
      expect(codeOf(() => new LmdbRegistryStore(root))).toBe(ErrorCode.UNSUPPORTED_STORE);
    } finally {
      await root.close();
    }
  });

  it('refuses a named sub-database in place of the root', async () => {
    const root = open(freshDir(), {});
    try {
      const sub = root.openDB({ name: 'mine' });
      expect(codeOf(() => new LmdbRegistryStore(sub as never))).toBe(ErrorCode.UNSUPPORTED_STORE);
    } finally {
      await root.close();
    }
  });
});

describe('LmdbRegistryStore › own cases', () => {
  it("keeps its rows apart from the user's data, whatever the root's encoding", async () => {
    const root = open(freshDir(), {}); // msgpack values, ordered-binary keys: the user's choice
    await root.put('user-key', { mine: true });
    await root.put(Buffer.from([0x01]), 'raw');
    const store = new LmdbRegistryStore(root);
    await expectOnlyOwnRows(store);
    expect(await store.get(new TextEncoder().encode('user-key'))).toBeUndefined();
    expect(root.get('user-key')).toEqual({ mine: true });
    expect(root.get(Buffer.from([0x01]))).toBe('raw');
    await store.close();
    // The user's handle stays theirs: closing the store does not close it.
    expect(root.get('user-key')).toEqual({ mine: true });
    await root.close();
  });

  it('stores values uncompressed under a root opened with compression, so its own open() reads them back', async () => {
    const path = join(freshDir(), 'env');
    const root = open(path, { compression: true });
    const store = new LmdbRegistryStore(root);
    // Above lmdb's 1000-byte compression threshold, and compressible.
    const big = new Uint8Array(4000).fill(0x61);
    await store.write([{ key: bytes(1), value: big }]);
    await store.close();
    await root.close();
    const reopened = await LmdbRegistryStore.open(path, { create: false });
    expect(await reopened.get(bytes(1))).toEqual(big);
    await reopened.close();
  });

  it('reports ERR_STORE_IO when the root is closed underneath', async () => {
    const root = open(freshDir(), {});
    const store = new LmdbRegistryStore(root);
    await root.close();
    await expect(store.write([{ key: bytes(1), value: bytes(1) }])).rejects.toMatchObject({ code: ErrorCode.STORE_IO });
    await expect(store.get(bytes(1))).rejects.toMatchObject({ code: ErrorCode.STORE_IO });
  });

  it("a second store on the user's root is refused with ERR_STORE_IN_USE until the first closes, and so is open(path)", async () => {
    const path = join(freshDir(), 'env');
    const root = open(path, {});
    const first = new LmdbRegistryStore(root);
    expect(codeOf(() => new LmdbRegistryStore(root))).toBe(ErrorCode.STORE_IN_USE);
    await expect(LmdbRegistryStore.open(path)).rejects.toMatchObject({ code: ErrorCode.STORE_IN_USE });
    await first.write([{ key: bytes(1), value: bytes(1) }]);
    await first.close();
    const second = new LmdbRegistryStore(root);
    expect(await second.get(bytes(1))).toEqual(bytes(1));
    await second.close();
    await root.close();
  });
});
