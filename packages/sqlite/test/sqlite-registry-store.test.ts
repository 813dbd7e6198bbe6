import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@keyledger/core';
import { describeRegistryStore } from '@keyledger/core/conformance';
import { bytes, codeOf, describeAdapter, expectOnlyOwnRows } from '@keyledger/harness/adapter';
import { SqliteRegistryStore } from '../src/index.js';

// The conformance suite and the cases every adapter shares first, then this adapter's own.
const { freshDir } = describeAdapter({
  name: 'SqliteRegistryStore',
  own: 'sqlite',
  shape: 'file',
  testFile: import.meta.url,
  conformance: describeRegistryStore,
  openHandle: (dir) => new Database(join(dir, 'keyledger.db')),
  construct: (db, options) => new SqliteRegistryStore(db as Database.Database, options),
  closeHandle: (db) => db.close(),
  // SQLite refuses every later write on the same connection (SQLITE_READONLY), so the next
  // persist fails inside the library, after the store has handed it the write.
  failNextWrite: (db) => {
    db.pragma('query_only = ON');
  },
  open: (path, options) => SqliteRegistryStore.open(path, options),
});

describe('SqliteRegistryStore › construction refusal', () => {
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

  it("keeps its rows in its own table, apart from the user's", async () => {
    const db = new Database(join(freshDir(), 'x.db'));
    db.exec('CREATE TABLE mine (key BLOB PRIMARY KEY, value TEXT)');
    db.prepare('INSERT INTO mine VALUES (?, ?)').run(Buffer.from([0x01]), 'raw');
    const store = new SqliteRegistryStore(db);
    await expectOnlyOwnRows(store);
    expect(db.prepare('SELECT value FROM mine').pluck().all()).toEqual(['raw']);
    await store.close();
    // The user's handle stays theirs: closing the store does not close it.
    expect(db.open).toBe(true);
    db.close();
  });

  it("writes to the main database's table even when the connection has a TEMP table of the same name", async () => {
    const path = join(freshDir(), 'x.db');
    const db = new Database(path);
    db.exec('CREATE TEMP TABLE keyledger_registry (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID');
    const store = new SqliteRegistryStore(db);
    await store.write([{ key: bytes(1), value: bytes(2) }]);
    expect(db.prepare('SELECT count(*) FROM temp.keyledger_registry').pluck().get()).toBe(0);
    db.close();
    // A TEMP table vanishes with its connection: rows written there would be lost.
    const reopened = await SqliteRegistryStore.open(path, { create: false });
    expect(await reopened.get(bytes(1))).toEqual(bytes(2));
    await reopened.close();
  });

  it('reports ERR_STORE_IO when the connection is closed underneath', async () => {
    const db = new Database(join(freshDir(), 'x.db'));
    const store = new SqliteRegistryStore(db);
    db.close();
    await expect(store.write([{ key: bytes(1), value: bytes(1) }])).rejects.toMatchObject({ code: ErrorCode.STORE_IO });
    await expect(store.get(bytes(1))).rejects.toMatchObject({ code: ErrorCode.STORE_IO });
  });
});
