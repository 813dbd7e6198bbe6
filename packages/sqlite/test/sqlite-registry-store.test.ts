import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Level } from 'level';
import { open } from 'lmdb';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode, compareBytes, type RegistryStore, type StoreEntry } from '@keyledger/core';
import { describeRegistryStore } from '@keyledger/core/conformance';
import { SqliteRegistryStore } from '../src/index.js';

const dirs: string[] = [];
function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'keyledger-sqlite-'));
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

// The conformance suite first: the same cases every adapter must pass.
const handles = new WeakMap<RegistryStore, Database.Database>();
describeRegistryStore({
  name: 'SqliteRegistryStore',
  // Same layout as fixtures/open-store.mjs, so the crash child and this process share a file.
  open: async (dir) => {
    const db = new Database(join(dir, 'keyledger.db'));
    const store = new SqliteRegistryStore(db, { closeHandle: true });
    handles.set(store, db);
    return store;
  },
  module: fileURLToPath(new URL('./fixtures/open-store.mjs', import.meta.url)),
  // Closes the better-sqlite3 connection behind the store's back.
  breakBackend: (store) => {
    handles.get(store)?.close();
  },
});

describe('SqliteRegistryStore › construction refusal', () => {
  it('refuses null and undefined with ERR_NIL_STORE', () => {
    expect(codeOf(() => new SqliteRegistryStore(null as never))).toBe(ErrorCode.NIL_STORE);
    expect(codeOf(() => new SqliteRegistryStore(undefined as never))).toBe(ErrorCode.NIL_STORE);
  });

  it('refuses a plain object', () => {
    expect(codeOf(() => new SqliteRegistryStore({} as never))).toBe(ErrorCode.UNSUPPORTED_STORE);
  });

  it('refuses an lmdb root database', async () => {
    const root = open(freshDir(), {});
    try {
      expect(codeOf(() => new SqliteRegistryStore(root as never))).toBe(ErrorCode.UNSUPPORTED_STORE);
    } finally {
      await root.close();
    }
  });

  it('refuses a Level database', async () => {
    const db = new Level(freshDir());
    await db.open();
    try {
      expect(codeOf(() => new SqliteRegistryStore(db as never))).toBe(ErrorCode.UNSUPPORTED_STORE);
    } finally {
      await db.close();
    }
  });

  it('refuses :memory: and the anonymous temporary database (volatile)', () => {
    for (const name of [':memory:', '']) {
      const db = new Database(name);
      try {
        expect(
          codeOf(() => new SqliteRegistryStore(db)),
          JSON.stringify(name),
        ).toBe(ErrorCode.UNSUPPORTED_STORE);
      } finally {
        db.close();
      }
    }
  });

  it('refuses a closed database', () => {
    const db = new Database(join(freshDir(), 'x.db'));
    db.close();
    expect(codeOf(() => new SqliteRegistryStore(db))).toBe(ErrorCode.UNSUPPORTED_STORE);
  });

  it('refuses a read-only database', () => {
    const path = join(freshDir(), 'x.db');
    new Database(path).close();
    const db = new Database(path, { readonly: true });
    try {
      expect(codeOf(() => new SqliteRegistryStore(db))).toBe(ErrorCode.UNSUPPORTED_STORE);
    } finally {
      db.close();
    }
  });
});

describe('SqliteRegistryStore › own cases', () => {
  it('sets journal_mode=WAL and synchronous=FULL on the connection', () => {
    const db = new Database(join(freshDir(), 'x.db'));
    db.pragma('synchronous = OFF');
    new SqliteRegistryStore(db);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    db.close();
  });

  it('refuses to write once synchronous is lowered under it', async () => {
    const db = new Database(join(freshDir(), 'x.db'));
    const store = new SqliteRegistryStore(db);
    db.pragma('synchronous = NORMAL');
    await expect(store.write([{ key: bytes(1), value: bytes(1) }])).rejects.toMatchObject({ code: ErrorCode.STORE_IO });
    db.close();
  });

  it('checks synchronous at every write, after any number of changes', async () => {
    const db = new Database(join(freshDir(), 'x.db'));
    const store = new SqliteRegistryStore(db);
    await store.write([{ key: bytes(1), value: bytes(1) }]);
    for (const level of ['OFF', 'NORMAL', 'EXTRA']) {
      db.pragma(`synchronous = ${level}`);
      await expect(store.write([{ key: bytes(2), value: bytes(2) }]), level).rejects.toMatchObject({ code: ErrorCode.STORE_IO });
      db.exec('PRAGMA synchronous = FULL');
      await store.write([{ key: bytes(2), value: bytes(2) }]);
    }
    expect(await store.get(bytes(2))).toEqual(bytes(2));
    db.close();
  });

  it("refuses to write inside the user's open transaction (it would not be durable on return)", async () => {
    const db = new Database(join(freshDir(), 'x.db'));
    const store = new SqliteRegistryStore(db);
    db.exec('BEGIN');
    await expect(store.write([{ key: bytes(1), value: bytes(1) }])).rejects.toMatchObject({ code: ErrorCode.STORE_IO });
    db.exec('ROLLBACK');
    await store.write([{ key: bytes(1), value: bytes(1) }]);
    expect(await store.get(bytes(1))).toEqual(bytes(1));
    db.close();
  });

  it('open(path) persists across close and reopen', async () => {
    const path = join(freshDir(), 'k.db');
    const a = await SqliteRegistryStore.open(path);
    await a.write([{ key: bytes(1, 2), value: bytes(3) }]);
    await a.close();
    const b = await SqliteRegistryStore.open(path);
    expect(await b.get(bytes(1, 2))).toEqual(bytes(3));
    await b.close();
  });

  it("keeps its rows in its own table, apart from the user's", async () => {
    const db = new Database(join(freshDir(), 'x.db'));
    db.exec('CREATE TABLE mine (key BLOB PRIMARY KEY, value TEXT)');
    db.prepare('INSERT INTO mine VALUES (?, ?)').run(Buffer.from([0x01]), 'raw');
    const store = new SqliteRegistryStore(db);
    await store.write([
      { key: bytes(0x01), value: bytes(0xaa, 0x00) },
      { key: bytes(0xff), value: bytes() },
    ]);
    expect(await collect(store.scan(bytes()))).toEqual([
      [[0x01], [0xaa, 0x00]],
      [[0xff], []],
    ]);
    expect(db.prepare('SELECT value FROM mine').pluck().all()).toEqual(['raw']);
    await store.close();
    // The user's handle stays theirs: closing the store does not close it.
    expect(db.open).toBe(true);
    db.close();
  });

  it('scans in unsigned byte order with 0x00 and 0xFF keys', async () => {
    const store = await SqliteRegistryStore.open(join(freshDir(), 'k.db'));
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

  it('reports ERR_STORE_IO when the connection is closed underneath', async () => {
    const db = new Database(join(freshDir(), 'x.db'));
    const store = new SqliteRegistryStore(db);
    db.close();
    await expect(store.write([{ key: bytes(1), value: bytes(1) }])).rejects.toMatchObject({ code: ErrorCode.STORE_IO });
    await expect(store.get(bytes(1))).rejects.toMatchObject({ code: ErrorCode.STORE_IO });
  });
});
