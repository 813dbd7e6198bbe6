import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClassicLevel } from 'classic-level';
import { Level } from 'level';
import { open } from 'lmdb';
import { MemoryLevel } from 'memory-level';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode, compareBytes, type RegistryStore, type StoreEntry } from '@keyledger/core';
import { describeRegistryStore } from '@keyledger/core/conformance';
import { LevelRegistryStore } from '../src/index.js';

const dirs: string[] = [];
function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'keyledger-level-'));
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
const handles = new WeakMap<RegistryStore, Level>();
describeRegistryStore({
  name: 'LevelRegistryStore',
  // Same layout as fixtures/open-store.mjs, so the crash child and this process share a directory.
  open: async (dir) => {
    const db = new Level(join(dir, 'level'));
    await db.open();
    const store = new LevelRegistryStore(db, { closeHandle: true });
    handles.set(store, db);
    return store;
  },
  module: fileURLToPath(new URL('./fixtures/open-store.mjs', import.meta.url)),
  // Closes the Level database behind the store's back.
  breakBackend: async (store) => {
    await handles.get(store)?.close();
  },
});

describe('LevelRegistryStore › construction refusal', () => {
  it('refuses null and undefined with ERR_NIL_STORE', () => {
    expect(codeOf(() => new LevelRegistryStore(null as never))).toBe(ErrorCode.NIL_STORE);
    expect(codeOf(() => new LevelRegistryStore(undefined as never))).toBe(ErrorCode.NIL_STORE);
  });

  it('refuses a plain object', () => {
    expect(codeOf(() => new LevelRegistryStore({} as never))).toBe(ErrorCode.UNSUPPORTED_STORE);
  });

  it('refuses an lmdb root database', async () => {
    const root = open(freshDir(), {});
    try {
      expect(codeOf(() => new LevelRegistryStore(root as never))).toBe(ErrorCode.UNSUPPORTED_STORE);
    } finally {
      await root.close();
    }
  });

  it('refuses a better-sqlite3 Database', () => {
    const db = new Database(join(freshDir(), 'x.db'));
    try {
      expect(codeOf(() => new LevelRegistryStore(db as never))).toBe(ErrorCode.UNSUPPORTED_STORE);
    } finally {
      db.close();
    }
  });

  it('refuses a memory-level MemoryLevel (volatile)', async () => {
    const db = new MemoryLevel();
    await db.open();
    expect(codeOf(() => new LevelRegistryStore(db as never))).toBe(ErrorCode.UNSUPPORTED_STORE);
    await db.close();
  });

  it('refuses a closed database', async () => {
    const db = new Level(freshDir());
    await db.open();
    await db.close();
    expect(codeOf(() => new LevelRegistryStore(db))).toBe(ErrorCode.UNSUPPORTED_STORE);
  });

  it('refuses a sublevel in place of the database', async () => {
    const db = new Level(freshDir());
    await db.open();
    try {
      expect(codeOf(() => new LevelRegistryStore(db.sublevel('mine') as never))).toBe(ErrorCode.UNSUPPORTED_STORE);
    } finally {
      await db.close();
    }
  });

  it('accepts a database still opening (level opens lazily) and a ClassicLevel', async () => {
    const lazy = new Level(freshDir());
    const store = new LevelRegistryStore(lazy, { closeHandle: true });
    await store.write([{ key: bytes(1), value: bytes(2) }]);
    expect(await store.get(bytes(1))).toEqual(bytes(2));
    await store.close();
    const classic = new ClassicLevel(freshDir());
    await classic.open();
    expect(new LevelRegistryStore(classic).kind).toBe('level');
    await classic.close();
  });
});

describe('LevelRegistryStore › own cases', () => {
  it('open(path) persists across close and reopen', async () => {
    const path = join(freshDir(), 'db');
    const a = await LevelRegistryStore.open(path);
    await a.write([{ key: bytes(1, 2), value: bytes(3) }]);
    await a.close();
    const b = await LevelRegistryStore.open(path);
    expect(await b.get(bytes(1, 2))).toEqual(bytes(3));
    await b.close();
  });

  it("keeps its rows apart from the user's data, whatever the database's encodings", async () => {
    const db = new Level<string, unknown>(freshDir(), { valueEncoding: 'json' });
    await db.put('user-key', { mine: true });
    await db.put('\x01', 'raw');
    const store = new LevelRegistryStore(db);
    await store.write([
      { key: bytes(0x01), value: bytes(0xaa, 0x00) },
      { key: bytes(0xff), value: bytes() },
    ]);
    expect(await collect(store.scan(bytes()))).toEqual([
      [[0x01], [0xaa, 0x00]],
      [[0xff], []],
    ]);
    expect(await store.get(new TextEncoder().encode('user-key'))).toBeUndefined();
    expect(await store.getMany([bytes(0x01), bytes(0x02), bytes(0xff)])).toEqual([bytes(0xaa, 0x00), undefined, bytes()]);
    expect(await db.get('user-key')).toEqual({ mine: true });
    expect(await db.get('\x01')).toBe('raw');
    await store.close();
    // The user's handle stays theirs: closing the store does not close it.
    expect(db.status).toBe('open');
    expect(await db.get('user-key')).toEqual({ mine: true });
    await db.close();
  });

  it('scans in unsigned byte order with 0x00 and 0xFF keys', async () => {
    const store = await LevelRegistryStore.open(join(freshDir(), 'db'));
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

  it('reports ERR_STORE_IO when the database is closed underneath', async () => {
    const db = new Level(freshDir());
    const store = new LevelRegistryStore(db);
    await db.open();
    await db.close();
    await expect(store.write([{ key: bytes(1), value: bytes(1) }])).rejects.toMatchObject({ code: ErrorCode.STORE_IO });
    await expect(store.get(bytes(1))).rejects.toMatchObject({ code: ErrorCode.STORE_IO });
  });
});
