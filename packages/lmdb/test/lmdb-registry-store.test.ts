import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Level } from 'level';
import { open, type RootDatabase } from 'lmdb';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode, compareBytes, type RegistryStore, type StoreEntry } from '@keyledger/core';
import { describeRegistryStore } from '@keyledger/core/conformance';
import { LmdbRegistryStore } from '../src/index.js';

const dirs: string[] = [];
function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'keyledger-lmdb-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function codeOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return (err as { code?: unknown }).code;
  }
  return 'no error';
}

async function collect(it: AsyncIterable<StoreEntry>): Promise<[number[], number[]][]> {
  const out: [number[], number[]][] = [];
  for await (const e of it) out.push([[...e.key], [...e.value]]);
  return out;
}

const bytes = (...b: number[]) => new Uint8Array(b);

// better-sqlite3 ships no types here; only its constructor is needed, as a foreign handle.
const Database = createRequire(import.meta.url)('better-sqlite3') as new (path: string) => { close(): void };

// The conformance suite first: the same cases every adapter must pass.
const roots = new WeakMap<RegistryStore, RootDatabase>();
describeRegistryStore({
  name: 'LmdbRegistryStore',
  // Same layout as fixtures/open-store.mjs, so the crash child and this process share a directory.
  open: async (dir) => {
    const root = open(join(dir, 'lmdb'), {});
    const store = new LmdbRegistryStore(root, { closeHandle: true });
    roots.set(store, root);
    return store;
  },
  module: fileURLToPath(new URL('./fixtures/open-store.mjs', import.meta.url)),
  // Closes lmdb's own root behind the store's back.
  breakBackend: async (store) => {
    await roots.get(store)?.close();
  },
});

describe('LmdbRegistryStore › construction refusal', () => {
  it('refuses null and undefined with ERR_NIL_STORE', () => {
    expect(codeOf(() => new LmdbRegistryStore(null as never))).toBe(ErrorCode.NIL_STORE);
    expect(codeOf(() => new LmdbRegistryStore(undefined as never))).toBe(ErrorCode.NIL_STORE);
  });

  it('refuses a plain object', () => {
    expect(codeOf(() => new LmdbRegistryStore({} as never))).toBe(ErrorCode.UNSUPPORTED_STORE);
  });

  it('refuses a better-sqlite3 Database', () => {
    const db = new Database(join(freshDir(), 'x.db'));
    try {
      expect(codeOf(() => new LmdbRegistryStore(db as never))).toBe(ErrorCode.UNSUPPORTED_STORE);
    } finally {
      db.close();
    }
  });

  it('refuses a Level database', async () => {
    const db = new Level(freshDir());
    await db.open();
    try {
      expect(codeOf(() => new LmdbRegistryStore(db as never))).toBe(ErrorCode.UNSUPPORTED_STORE);
    } finally {
      await db.close();
    }
  });

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
  it('open(path) persists across close and reopen', async () => {
    const path = join(freshDir(), 'env');
    const a = await LmdbRegistryStore.open(path);
    await a.write([{ key: bytes(1, 2), value: bytes(3) }]);
    await a.close();
    const b = await LmdbRegistryStore.open(path);
    expect(await b.get(bytes(1, 2))).toEqual(bytes(3));
    await b.close();
  });

  it("keeps its rows apart from the user's data, whatever the root's encoding", async () => {
    const root = open(freshDir(), {}); // msgpack values, ordered-binary keys: the user's choice
    await root.put('user-key', { mine: true });
    await root.put(Buffer.from([0x01]), 'raw');
    const store = new LmdbRegistryStore(root);
    await store.write([{ key: bytes(0x01), value: bytes(0xaa) }]);
    expect(await collect(store.scan(bytes()))).toEqual([[[0x01], [0xaa]]]);
    expect(await store.get(new TextEncoder().encode('user-key'))).toBeUndefined();
    expect(root.get('user-key')).toEqual({ mine: true });
    expect(root.get(Buffer.from([0x01]))).toBe('raw');
    await store.close();
    // The user's handle stays theirs: closing the store does not close it.
    expect(root.get('user-key')).toEqual({ mine: true });
    await root.close();
  });

  it('scans in unsigned byte order with 0x00 and 0xFF keys', async () => {
    const store = await LmdbRegistryStore.open(join(freshDir(), 'env'));
    const keys = [bytes(0xff, 0xff), bytes(0x00), bytes(0xff), bytes(0x7f, 0x00), bytes(0x00, 0x00), bytes(0x80), bytes(0xff, 0x00)];
    await store.write(keys.map((k, i) => ({ key: k, value: bytes(i, 0x00, 0xff) })));
    const all = await collect(store.scan(bytes()));
    expect(all.map(([k]) => k)).toEqual([[0x00], [0x00, 0x00], [0x7f, 0x00], [0x80], [0xff], [0xff, 0x00], [0xff, 0xff]]);
    // Each key keeps its own value (no buffer reused between rows).
    const want = keys.map((k, i) => ({ k, v: [i, 0x00, 0xff] })).sort((a, b) => compareBytes(a.k, b.k));
    expect(all).toEqual(want.map(({ k, v }) => [[...k], v]));
    expect((await collect(store.scan(bytes(0xff)))).map(([k]) => k)).toEqual([[0xff], [0xff, 0x00], [0xff, 0xff]]);
    expect((await collect(store.scan(bytes(0xff, 0xff)))).map(([k]) => k)).toEqual([[0xff, 0xff]]);
    expect((await collect(store.scan(bytes(0x00)))).map(([k]) => k)).toEqual([[0x00], [0x00, 0x00]]);
    await store.close();
  });

  it('reports ERR_STORE_IO when the root is closed underneath', async () => {
    const root = open(freshDir(), {});
    const store = new LmdbRegistryStore(root);
    await root.close();
    await expect(store.write([{ key: bytes(1), value: bytes(1) }])).rejects.toMatchObject({ code: ErrorCode.STORE_IO });
    await expect(store.get(bytes(1))).rejects.toMatchObject({ code: ErrorCode.STORE_IO });
  });
});
