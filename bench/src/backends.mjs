// Per backend: the raw baseline (the library used directly, the fastest straightforward way) and
// the keyledger adapter over a handle opened the way the adapter's own `open(path)` opens it.
// Both are durable on every commit; neither is tuned beyond what a careful user would do.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ClassicLevel } from 'classic-level';
import { Level } from 'level';
import { open as openLmdb } from 'lmdb';
import { LevelRegistryStore } from '@keyledger/level';
import { LmdbRegistryStore } from '@keyledger/lmdb';
import { SqliteRegistryStore } from '@keyledger/sqlite';

export const BACKENDS = ['lmdb', 'level', 'sqlite'];

/**
 * A raw baseline driver:
 * - `perOp(key, row)`: read `key`, write `row` (12 B) under it, one durable commit.
 * - `group(keys, rows)`: read every key, then write every row, in one durable commit.
 * - `settle()`: as KEYLEDGER's below.
 */
export const RAW = {
  /**
   * `transactionSync` on an environment opened with `overlappingSync: false`: the commit, sync
   * included, completes before the call returns. Faster here than `await put()` followed by
   * `await db.flushed` (two hops through lmdb's write thread), see BENCHMARKS.md.
   */
  async lmdb(dir) {
    const db = openLmdb(join(dir, 'raw-lmdb'), { keyEncoding: 'binary', encoding: 'binary', overlappingSync: false });
    return {
      perOp(key, row) {
        db.transactionSync(() => {
          db.get(key);
          db.putSync(key, row);
        });
      },
      group(keys, rows) {
        db.transactionSync(() => {
          for (let i = 0; i < keys.length; i++) {
            db.get(keys[i]);
            db.putSync(keys[i], rows[i]);
          }
        });
      },
      settle: async () => {},
      close: () => db.close(),
    };
  },

  /** classic-level with binary encodings; every write `{ sync: true }`; a group reads with `getMany`. */
  async level(dir) {
    const db = new ClassicLevel(join(dir, 'raw-level'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    const SYNC = { sync: true };
    return {
      async perOp(key, row) {
        await db.get(key);
        await db.put(key, row, SYNC);
      },
      async group(keys, rows) {
        await db.getMany(keys);
        const ops = new Array(keys.length);
        for (let i = 0; i < keys.length; i++) ops[i] = { type: 'put', key: keys[i], value: rows[i] };
        await db.batch(ops, SYNC);
      },
      settle: () => db.compactRange(Buffer.alloc(0), Buffer.alloc(1024, 0xff)),
      close: () => db.close(),
    };
  },

  /**
   * better-sqlite3, WAL with `synchronous=FULL` (without FULL a WAL commit is not synced), a
   * `WITHOUT ROWID` BLOB table, prepared statements; one op is two autocommit statements, a group
   * one transaction.
   */
  async sqlite(dir) {
    const db = new Database(join(dir, 'raw.sqlite'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID');
    const select = db.prepare('SELECT value FROM kv WHERE key = ?').pluck();
    const upsert = db.prepare('INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)');
    const group = db.transaction((keys, rows) => {
      for (let i = 0; i < keys.length; i++) {
        select.get(keys[i]);
        upsert.run(keys[i], rows[i]);
      }
    });
    return {
      perOp(key, row) {
        select.get(key);
        upsert.run(key, row);
      },
      group,
      settle: async () => void db.pragma('wal_checkpoint(TRUNCATE)'),
      close: () => db.close(),
    };
  },
};

/**
 * keyledger's store for a backend. `settle()` brings a freshly bulk-loaded store to the shape a
 * long-lived one has (LevelDB compacted, SQLite's WAL checkpointed), so that the pre-filled
 * figures measure a big store, not a pending compaction.
 */
export const KEYLEDGER = {
  async lmdb(dir) {
    const root = openLmdb(join(dir, 'lmdb'), {});
    const store = new LmdbRegistryStore(root, { closeHandle: true });
    return { store, settle: async () => {} };
  },
  async level(dir) {
    const db = new Level(join(dir, 'level'));
    await db.open();
    const store = new LevelRegistryStore(db, { closeHandle: true });
    return { store, settle: () => db.compactRange(Buffer.alloc(0), Buffer.alloc(1024, 0xff), { keyEncoding: 'buffer' }) };
  },
  async sqlite(dir) {
    const db = new Database(join(dir, 'keyledger.sqlite'));
    const store = new SqliteRegistryStore(db, { closeHandle: true });
    return { store, settle: async () => void db.pragma('wal_checkpoint(TRUNCATE)') };
  },
};
