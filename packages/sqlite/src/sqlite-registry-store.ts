import {
  AdapterErrors,
  BaseRegistryStore,
  isKeyledgerError,
  OwnedResources,
  prefixUpperBound,
  prepareStoreLocation,
  readCreateOption,
} from '@keyledger/core';
import type { HandleRule, StoreEntry, StoreOpenOptions } from '@keyledger/core';
import { REGISTRY_TABLE, SQLITE_REGISTRY_TABLE, checkRegistryTable, createRegistryTable, hasRegistryTable } from './registry-table.js';

/** `PRAGMA synchronous` value FULL: the WAL is synced on every commit. */
const SYNCHRONOUS_FULL = 2;

/** The slice of a better-sqlite3 `Statement` this adapter calls. */
export interface SqliteStatement {
  run(...params: unknown[]): unknown;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  pluck(toggle?: boolean): this;
}

/**
 * The slice of a better-sqlite3 `Database` this adapter reads. Declared structurally so that the
 * adapter loads `better-sqlite3` only in {@link SqliteRegistryStore.open}.
 */
export interface SqliteDatabase {
  readonly open: boolean;
  readonly readonly: boolean;
  /** True for `:memory:` and for the anonymous temporary database (empty path). */
  readonly memory: boolean;
  readonly name: string;
  readonly inTransaction: boolean;
  prepare(source: string): SqliteStatement;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  exec(source: string): unknown;
  transaction<A, R>(fn: (arg: A) => R): (arg: A) => R;
  close(): unknown;
}

export interface SqliteRegistryStoreOptions {
  /** Close the database when the store closes. Default `false`: the handle is yours. */
  closeHandle?: boolean;
}

const errors = new AdapterErrors(
  'SqliteRegistryStore',
  'pass an open, writable better-sqlite3 Database on a file path: new Database(path)',
);

const DATABASE_MEMBERS = {
  prepare: 'function',
  pragma: 'function',
  transaction: 'function',
  open: 'boolean',
  readonly: 'boolean',
  memory: 'boolean',
  name: 'string',
} as const;

const DATABASE_RULES: readonly HandleRule<SqliteDatabase>[] = [
  (d) => (!d.open ? 'the database is closed' : undefined),
  (d) => (d.readonly ? 'the database is read-only' : undefined),
  // Volatile, by better-sqlite3's own flag: an in-memory database forgets every registration on
  // restart, after which a rolled-back epoch would be accepted and a nonce reused.
  (d) => (d.memory ? `the database ${JSON.stringify(d.name)} is in memory or temporary` : undefined),
];

function sqliteCode(err: unknown): unknown {
  return (err as { code?: unknown } | null)?.code;
}

/** Runs SQLite work on a connection being prepared, reporting a file that is not a database as a refusal. */
function onConnection<T>(db: SqliteDatabase, what: string, work: () => T): T {
  try {
    return work();
  } catch (err) {
    if (isKeyledgerError(err)) throw err;
    if (sqliteCode(err) === 'SQLITE_NOTADB') throw errors.unsupported(`${JSON.stringify(db.name)} is not a SQLite database`, err);
    if (sqliteCode(err) === 'SQLITE_BUSY') throw errors.inUse(db.name, err);
    throw errors.io(`cannot ${what} ${JSON.stringify(db.name)}`, err);
  }
}

function configure(db: SqliteDatabase): void {
  const [mode, sync] = onConnection(db, 'prepare', () => {
    checkRegistryTable(db, errors);
    const m = db.pragma('journal_mode = WAL', { simple: true });
    db.pragma('synchronous = FULL');
    const s = db.pragma('synchronous', { simple: true });
    createRegistryTable(db);
    return [m, s];
  });
  if (String(mode).toLowerCase() !== 'wal') throw errors.unsupported(`journal_mode stays ${String(mode)}, WAL cannot be enabled`);
  if (sync !== SYNCHRONOUS_FULL) throw errors.unsupported(`synchronous stays ${String(sync)}, FULL cannot be set`);
}

/**
 * A durable `RegistryStore` (`@keyledger/core`) over a better-sqlite3 database. Rows live in the table
 * `keyledger_registry` (`WITHOUT ROWID`, BLOB keys compared with memcmp, so in unsigned byte order);
 * the connection is switched to `journal_mode=WAL` and `synchronous=FULL`, so a commit is synced
 * before it returns.
 *
 * @example
 * const store = await SqliteRegistryStore.open('/var/lib/app/keyledger.db');
 * const applier = await Applier.open(store);
 */
export class SqliteRegistryStore extends BaseRegistryStore {
  readonly kind = 'sqlite';
  readonly #db: SqliteDatabase;
  readonly #owned = new OwnedResources();
  readonly #select: SqliteStatement;
  readonly #scanRange: SqliteStatement;
  readonly #scanFrom: SqliteStatement;
  readonly #insert: SqliteStatement;
  readonly #insertPair: SqliteStatement;
  readonly #synchronous: SqliteStatement;
  readonly #writeAll: (puts: readonly StoreEntry[]) => void;
  readonly #readAll: (keys: readonly Uint8Array[]) => (Uint8Array | undefined)[];

  /**
   * Throws synchronously: `ERR_NIL_STORE` / `ERR_UNSUPPORTED_STORE` for a handle that cannot be
   * durable, or whose `keyledger_registry` table keyledger did not make (checked before the
   * connection is changed in any way).
   */
  constructor(db: SqliteDatabase, options: SqliteRegistryStoreOptions = {}) {
    super();
    this.#db = errors.checkHandle(db, DATABASE_MEMBERS, 'a better-sqlite3 Database', DATABASE_RULES);
    configure(this.#db);
    const t = REGISTRY_TABLE;
    this.#select = db.prepare(`SELECT value FROM ${t} WHERE key = ?`).pluck();
    this.#scanRange = db.prepare(`SELECT key, value FROM ${t} WHERE key >= ? AND key < ? ORDER BY key`);
    // A prefix of only 0xFF bytes (or none) has no upper bound: everything from it on matches.
    this.#scanFrom = db.prepare(`SELECT key, value FROM ${t} WHERE key >= ? ORDER BY key`);
    const insert = db.prepare(`INSERT OR REPLACE INTO ${t} (key, value) VALUES (?, ?)`);
    this.#insert = insert;
    // The applier's usual write: a registry row and the applied-index record (docs/design.md,
    // 'Re-delivery and the applied index'). One statement inserting both rows is atomic on its own.
    this.#insertPair = db.prepare(`INSERT OR REPLACE INTO ${t} (key, value) VALUES (?, ?), (?, ?)`);
    // Run once now: see _write. The first run of a prepared PRAGMA returns the value compiled in at
    // prepare time; every later run recompiles and reads the connection's current level.
    this.#synchronous = db.prepare('PRAGMA synchronous').pluck();
    this.#synchronous.get();
    // One transaction per write: all puts commit together, with one WAL sync.
    this.#writeAll = db.transaction((puts: readonly StoreEntry[]) => {
      for (const p of puts) insert.run(p.key, p.value);
    });
    // One read transaction for a batch: one snapshot, and one WAL read lock instead of one per key.
    // It writes nothing, so its COMMIT syncs nothing.
    this.#readAll = db.transaction((keys: readonly Uint8Array[]) => {
      const out = new Array<Uint8Array | undefined>(keys.length);
      for (let i = 0; i < keys.length; i++) out[i] = this.#select.get(keys[i]) as Uint8Array | undefined;
      return out;
    });
    if (options.closeHandle === true) this.#owned.own(() => (this.#db.open ? this.#db.close() : undefined));
  }

  /**
   * Opens the SQLite database file at `path`, holding it exclusively until `close()`, and a store
   * that closes it then. With `create` (the default) a missing file is created 0600 (SQLite gives
   * its `-wal` and `-shm` files the same mode) in a parent made 0700 if missing. With
   * `create: false`, a path without keyledger's table is refused with `ERR_STORE_NOT_FOUND`, and
   * nothing is created or changed there: no file, no journal-mode switch, no table. Devices,
   * FIFOs and directories are refused with `ERR_UNSUPPORTED_STORE` before SQLite sees them.
   */
  static async open(path: string, options: StoreOpenOptions = {}): Promise<SqliteRegistryStore> {
    prepareStoreLocation(errors, path, options, { shape: 'file' });
    const create = readCreateOption(options);
    const { default: Database } = await import('better-sqlite3');
    const pending = new OwnedResources();
    return pending.openOrRelease(() => {
      let db: SqliteDatabase;
      try {
        // timeout 0: a database held by another process is reported at once, not after 5 s of retries.
        db = new Database(path, { timeout: 0, fileMustExist: true }) as unknown as SqliteDatabase;
      } catch (err) {
        throw errors.io(`cannot open ${JSON.stringify(path)}`, err);
      }
      pending.own(() => (db.open ? db.close() : undefined));
      // Our own handle holds the file exclusively until close, as LevelDB's LOCK does: SQLite would
      // otherwise let a second process open it, and two appliers interleaving read-modify-write
      // cycles could lower a slot's epoch. (A handle the user passes in keeps the user's locking.)
      // Taking the lock writes nothing to the file.
      const found = onConnection(db, 'lock', () => {
        db.pragma('locking_mode = EXCLUSIVE');
        db.exec('BEGIN EXCLUSIVE; COMMIT');
        return hasRegistryTable(db);
      });
      if (!create && !found) throw errors.notFound(path, `a SQLite database without the table ${SQLITE_REGISTRY_TABLE}`);
      return new SqliteRegistryStore(db, { closeHandle: true });
    });
  }

  protected _get(key: Uint8Array): Uint8Array | undefined {
    return this.#select.get(key) as Uint8Array | undefined;
  }

  protected override _getMany(keys: readonly Uint8Array[]): (Uint8Array | undefined)[] {
    return keys.length === 1 ? [this._get(keys[0]!)] : this.#readAll(keys);
  }

  protected _write(puts: readonly StoreEntry[]): void {
    if (puts.length === 0) return;
    // Inside the user's open transaction ours would be a savepoint, durable only when theirs commits.
    if (this.#db.inTransaction) {
      throw errors.io('the connection is inside a transaction; a write now would not be durable on return');
    }
    // synchronous is per connection and the user shares ours: lowered, commits stop being synced.
    // The value is compiled into a PRAGMA's program, but SQLite marks every PRAGMA program run-once:
    // after its first run (done in the constructor) each run of the prepared statement recompiles it
    // and so reads the current level. The own cases pin this: the level lowered right after
    // construction, and lowered and restored between writes. pragma() would build a new statement
    // object on every call, ~10 µs per applyEntry here.
    const sync = this.#synchronous.get();
    if (sync !== SYNCHRONOUS_FULL) {
      throw errors.io(`synchronous was changed to ${String(sync)}; it must stay FULL (2)`);
    }
    // A lone statement outside a transaction is its own transaction (autocommit): atomic, and
    // synced at its commit like any other; BEGIN and COMMIT around it would only add two statements
    // (a fifth of a per-entry apply's CPU). A pair's rows are inserted in order, so a key put twice
    // keeps its second value, as in the transaction.
    if (puts.length === 1) this.#insert.run(puts[0]!.key, puts[0]!.value);
    else if (puts.length === 2) this.#insertPair.run(puts[0]!.key, puts[0]!.value, puts[1]!.key, puts[1]!.value);
    else this.#writeAll(puts);
  }

  protected _scan(prefix: Uint8Array): StoreEntry[] {
    const end = prefixUpperBound(prefix);
    // .all(), not .iterate(): an open iterator would keep the connection busy for the caller's writes.
    return (end === undefined ? this.#scanFrom.all(prefix) : this.#scanRange.all(prefix, end)) as StoreEntry[];
  }

  protected _close(): Promise<void> {
    return this.#owned.releaseAll();
  }
}
