import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@keyledger/core';
import { codeOf, rejectionCode, tempDirs } from '@keyledger/harness/adapter';
import { SqliteRegistryStore } from '../src/index.js';

// A database whose keyledger_registry keyledger did not make: each is refused at construction,
// before the connection is changed (no WAL switch), and neither the table nor the file changes.
const freshDir = tempDirs('sqlite-foreign');
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

const FOREIGN: Record<string, string> = {
  // Without a primary key, INSERT OR REPLACE appends: three epochs for one slot, get the oldest.
  'no primary key': 'CREATE TABLE keyledger_registry (key BLOB, value BLOB NOT NULL)',
  'a view': 'CREATE TABLE mine (key BLOB, value BLOB); CREATE VIEW keyledger_registry AS SELECT key, value FROM mine',
  'a missing column': 'CREATE TABLE keyledger_registry (key BLOB PRIMARY KEY) WITHOUT ROWID',
  'an extra column': 'CREATE TABLE keyledger_registry (key BLOB PRIMARY KEY, value BLOB NOT NULL, note TEXT) WITHOUT ROWID',
  'a rowid table': 'CREATE TABLE keyledger_registry (key BLOB PRIMARY KEY, value BLOB NOT NULL)',
  'a TEXT key': 'CREATE TABLE keyledger_registry (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID',
  'a nullable value': 'CREATE TABLE keyledger_registry (key BLOB PRIMARY KEY, value BLOB) WITHOUT ROWID',
  'a composite primary key':
    'CREATE TABLE keyledger_registry (key BLOB NOT NULL, value BLOB NOT NULL, PRIMARY KEY (key, value)) WITHOUT ROWID',
  // A UNIQUE index on value makes INSERT OR REPLACE delete whichever other row holds the same value.
  'an extra unique index':
    'CREATE TABLE keyledger_registry (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID; CREATE UNIQUE INDEX kv ON keyledger_registry (value)',
  'a trigger':
    'CREATE TABLE keyledger_registry (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID; CREATE TABLE log (k BLOB); CREATE TRIGGER t AFTER INSERT ON keyledger_registry BEGIN INSERT INTO log VALUES (new.key); END',
};

/** A rollback-journal database file holding `schema`, and what its catalogue and rows look like. */
function makeForeign(schema: string): { path: string; catalogue: () => unknown } {
  const path = join(freshDir(), 'app.db');
  const db = new Database(path);
  db.exec(schema);
  db.close();
  return {
    path,
    catalogue: () => {
      const d = new Database(path, { readonly: true });
      try {
        return d.prepare('SELECT type, name, sql FROM sqlite_schema ORDER BY name').all();
      } finally {
        d.close();
      }
    },
  };
}

describe('SqliteRegistryStore › a keyledger_registry it did not make is refused', () => {
  for (const [what, schema] of Object.entries(FOREIGN)) {
    it(`${what}: the constructor refuses it with ERR_UNSUPPORTED_STORE before switching to WAL`, () => {
      const { path, catalogue } = makeForeign(schema);
      const before = catalogue();
      const db = new Database(path);
      try {
        expect(codeOf(() => new SqliteRegistryStore(db))).toBe(ErrorCode.UNSUPPORTED_STORE);
        expect(db.pragma('journal_mode', { simple: true })).toBe('delete');
      } finally {
        db.close();
      }
      expect(catalogue()).toEqual(before);
    });

    it(`${what}: open(path) refuses it with ERR_UNSUPPORTED_STORE, the file unchanged`, async () => {
      const { path } = makeForeign(schema);
      const file = sha(path);
      expect(await rejectionCode(SqliteRegistryStore.open(path))).toBe(ErrorCode.UNSUPPORTED_STORE);
      expect(await rejectionCode(SqliteRegistryStore.open(path, { create: false }))).toBe(ErrorCode.UNSUPPORTED_STORE);
      expect(sha(path)).toBe(file);
    });
  }

  it('says what is wrong and what to do', () => {
    const { path } = makeForeign(FOREIGN['no primary key']!);
    const db = new Database(path);
    expect(() => new SqliteRegistryStore(db)).toThrow(
      /has the columns \(key BLOB, value BLOB NOT NULL\).*not made by keyledger: rename or drop it/,
    );
    db.close();
  });

  it('create: false on a SQLite database without the table is ERR_STORE_NOT_FOUND: no table, no WAL switch, no new file', async () => {
    const { path, catalogue } = makeForeign('CREATE TABLE mine (a)');
    const before = catalogue();
    const file = sha(path);
    const files = readdirSync(join(path, '..'));
    expect(await rejectionCode(SqliteRegistryStore.open(path, { create: false }))).toBe(ErrorCode.STORE_NOT_FOUND);
    expect(sha(path)).toBe(file);
    expect(readdirSync(join(path, '..'))).toEqual(files);
    expect(catalogue()).toEqual(before);
  });

  it('a file that is not a SQLite database is ERR_UNSUPPORTED_STORE with or without create, and stays as it was', async () => {
    const path = join(freshDir(), 'notes.txt');
    writeFileSync(path, 'these are my notes, not a database '.repeat(40));
    const file = sha(path);
    expect(await rejectionCode(SqliteRegistryStore.open(path))).toBe(ErrorCode.UNSUPPORTED_STORE);
    expect(await rejectionCode(SqliteRegistryStore.open(path, { create: false }))).toBe(ErrorCode.UNSUPPORTED_STORE);
    expect(sha(path)).toBe(file);
  });
});
