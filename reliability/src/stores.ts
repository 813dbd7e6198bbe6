import { join } from 'node:path';
import { BaseRegistryStore, prefixUpperBound, type RegistryStore, type StoreEntry } from '@keyledger/core';
import { LevelRegistryStore } from '@keyledger/level';
import { LmdbRegistryStore } from '@keyledger/lmdb';
import { SqliteRegistryStore } from '@keyledger/sqlite';

/** The three real adapters, as shipped. */
export const ADAPTERS = ['lmdb', 'level', 'sqlite'] as const;
export type AdapterName = (typeof ADAPTERS)[number];

/**
 * Deliberately misconfigured stores: each commits atomically (so each survives a plain process
 * kill) but acknowledges before the data is synced. Only the power-loss simulation can tell them
 * from the real adapters; they exist to show that it does.
 */
export const CONTROLS = ['sqlite-wal-normal', 'lmdb-nosync', 'level-nosync', 'lmdb-unflushed'] as const;
/** Controls that must lose acknowledged entries under the power-loss simulation. */
export const FAILING_CONTROLS: readonly ControlName[] = ['sqlite-wal-normal', 'lmdb-nosync', 'level-nosync'];
export type ControlName = (typeof CONTROLS)[number];
export type StoreName = AdapterName | ControlName;

export function isStoreName(s: string): s is StoreName {
  return (ADAPTERS as readonly string[]).includes(s) || (CONTROLS as readonly string[]).includes(s);
}

/** Opens the named store over `dir` (created when missing); the store owns and closes its handle. */
export async function openStore(name: StoreName, dir: string): Promise<RegistryStore> {
  switch (name) {
    case 'lmdb':
      return LmdbRegistryStore.open(join(dir, 'lmdb'));
    case 'level':
      return LevelRegistryStore.open(join(dir, 'level'));
    case 'sqlite':
      return SqliteRegistryStore.open(join(dir, 'registry.sqlite'));
    case 'sqlite-wal-normal':
      return WalNormalSqliteStore.open(join(dir, 'registry.sqlite'));
    case 'lmdb-unflushed':
      return UnflushedLmdbStore.open(join(dir, 'lmdb'), false);
    case 'lmdb-nosync':
      return UnflushedLmdbStore.open(join(dir, 'lmdb'), true);
    case 'level-nosync':
      return NoSyncLevelStore.open(join(dir, 'level'));
  }
}

/** SQLite in WAL mode with synchronous=NORMAL: a commit is not synced until a checkpoint. */
class WalNormalSqliteStore extends BaseRegistryStore {
  readonly kind = 'sqlite-wal-normal';
  constructor(private readonly db: import('better-sqlite3').Database) {
    super();
  }

  static async open(path: string): Promise<WalNormalSqliteStore> {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec('CREATE TABLE IF NOT EXISTS t (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID');
    return new WalNormalSqliteStore(db);
  }

  protected _get(key: Uint8Array): Uint8Array | undefined {
    return this.db.prepare('SELECT value FROM t WHERE key = ?').pluck().get(key) as Uint8Array | undefined;
  }

  protected _write(puts: readonly StoreEntry[]): void {
    const insert = this.db.prepare('INSERT OR REPLACE INTO t (key, value) VALUES (?, ?)');
    this.db.transaction(() => {
      for (const p of puts) insert.run(p.key, p.value);
    })();
  }

  protected _scan(prefix: Uint8Array): StoreEntry[] {
    const end = prefixUpperBound(prefix);
    return (
      end === undefined
        ? this.db.prepare('SELECT key, value FROM t WHERE key >= ? ORDER BY key').all(prefix)
        : this.db.prepare('SELECT key, value FROM t WHERE key >= ? AND key < ? ORDER BY key').all(prefix, end)
    ) as StoreEntry[];
  }

  protected _close(): void {
    this.db.close();
  }
}

/**
 * lmdb that resolves a write once the transaction commits, without waiting for `flushed`
 * ('lmdb-unflushed'), or additionally opened with `noSync` ('lmdb-nosync'), which never syncs.
 * With lmdb-js 3.x and one write at a time, strace shows the commit promise itself resolving
 * after the fdatasync, so 'lmdb-unflushed' is not expected to lose anything; 'lmdb-nosync' is.
 */
class UnflushedLmdbStore extends BaseRegistryStore {
  constructor(
    readonly kind: string,
    private readonly root: import('lmdb').RootDatabase,
    private readonly db: import('lmdb').Database<Uint8Array, Uint8Array>,
  ) {
    super();
  }

  static async open(path: string, noSync: boolean): Promise<UnflushedLmdbStore> {
    const { open } = await import('lmdb');
    const root = open(path, noSync ? { noSync: true } : {});
    const db = root.openDB<Uint8Array, Uint8Array>({ name: 'keyledger-registry', keyEncoding: 'binary', encoding: 'binary' });
    return new UnflushedLmdbStore(noSync ? 'lmdb-nosync' : 'lmdb-unflushed', root, db);
  }

  protected _get(key: Uint8Array): Uint8Array | undefined {
    return this.db.get(Buffer.from(key));
  }

  protected async _write(puts: readonly StoreEntry[]): Promise<void> {
    if (puts.length === 0) return;
    await this.db.transaction(() => {
      for (const p of puts) void this.db.put(Buffer.from(p.key), Buffer.from(p.value));
    });
  }

  protected _scan(prefix: Uint8Array): StoreEntry[] {
    const end = prefixUpperBound(prefix);
    const range = end === undefined ? { start: Buffer.from(prefix) } : { start: Buffer.from(prefix), end: Buffer.from(end) };
    return [...this.db.getRange(range)].map(({ key, value }) => ({ key: key as Uint8Array, value: value as Uint8Array }));
  }

  protected async _close(): Promise<void> {
    await this.root.close();
  }
}

/** LevelDB batches written without `sync`: in the OS cache when acknowledged, on disk later. */
class NoSyncLevelStore extends BaseRegistryStore {
  readonly kind = 'level-nosync';
  constructor(private readonly db: import('level').Level<Uint8Array, Uint8Array>) {
    super();
  }

  static async open(path: string): Promise<NoSyncLevelStore> {
    const { Level } = await import('level');
    const db = new Level<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    return new NoSyncLevelStore(db);
  }

  protected _get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.db.get(key);
  }

  protected async _write(puts: readonly StoreEntry[]): Promise<void> {
    if (puts.length === 0) return;
    await this.db.batch(
      puts.map((p) => ({ type: 'put' as const, key: p.key, value: p.value })),
      { sync: false },
    );
  }

  protected async *_scan(prefix: Uint8Array): AsyncIterable<StoreEntry> {
    const lt = prefixUpperBound(prefix);
    const rows = await this.db.iterator(lt === undefined ? { gte: prefix } : { gte: prefix, lt }).all();
    for (const [key, value] of rows) yield { key, value };
  }

  protected async _close(): Promise<void> {
    await this.db.close();
  }
}
