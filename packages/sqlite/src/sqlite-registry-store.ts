import { BaseRegistryStore, ErrorCode, KeyledgerError, prefixUpperBound } from '@keyledger/core';
import type { StoreEntry } from '@keyledger/core';

/** The table that holds keyledger's rows, apart from the user's own tables. */
export const SQLITE_REGISTRY_TABLE = 'keyledger_registry';

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

const PASS_INSTEAD = 'pass an open, writable better-sqlite3 Database on a file path: new Database(path)';

function refuse(what: string): KeyledgerError {
  return new KeyledgerError(ErrorCode.UNSUPPORTED_STORE, `SqliteRegistryStore: ${what}; ${PASS_INSTEAD}`);
}

function checkDatabase(db: unknown): SqliteDatabase {
  if (db === null || db === undefined) {
    throw new KeyledgerError(ErrorCode.NIL_STORE, `SqliteRegistryStore: no database given; ${PASS_INSTEAD}`);
  }
  const d = db as Partial<SqliteDatabase>;
  if (
    typeof d !== 'object' ||
    typeof d.prepare !== 'function' ||
    typeof d.pragma !== 'function' ||
    typeof d.transaction !== 'function' ||
    typeof d.open !== 'boolean' ||
    typeof d.readonly !== 'boolean' ||
    typeof d.memory !== 'boolean' ||
    typeof d.name !== 'string'
  ) {
    throw refuse('the handle is not a better-sqlite3 Database (no prepare, pragma, open, readonly, memory, name)');
  }
  if (!d.open) throw refuse('the database is closed');
  if (d.readonly) throw refuse('the database is read-only');
  // An in-memory database forgets every registration on restart, after which a rolled-back epoch
  // would be accepted and a nonce reused.
  if (d.memory) throw refuse(`the database ${JSON.stringify(d.name)} is in memory or temporary`);
  return d as SqliteDatabase;
}

function configure(db: SqliteDatabase): void {
  let mode: unknown;
  let sync: unknown;
  try {
    mode = db.pragma('journal_mode = WAL', { simple: true });
    db.pragma('synchronous = FULL');
    sync = db.pragma('synchronous', { simple: true });
    db.exec(`CREATE TABLE IF NOT EXISTS ${SQLITE_REGISTRY_TABLE} (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID`);
  } catch (err) {
    throw new KeyledgerError(ErrorCode.STORE_IO, `SqliteRegistryStore: cannot prepare ${JSON.stringify(db.name)}`, { cause: err });
  }
  if (String(mode).toLowerCase() !== 'wal') throw refuse(`journal_mode stays ${String(mode)}, WAL cannot be enabled`);
  if (sync !== SYNCHRONOUS_FULL) throw refuse(`synchronous stays ${String(sync)}, FULL cannot be set`);
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
  readonly #closeHandle: boolean;
  readonly #select: SqliteStatement;
  readonly #scanRange: SqliteStatement;
  readonly #scanFrom: SqliteStatement;
  readonly #insert: SqliteStatement;
  readonly #synchronous: SqliteStatement;
  readonly #writeAll: (puts: readonly StoreEntry[]) => void;
  readonly #readAll: (keys: readonly Uint8Array[]) => (Uint8Array | undefined)[];

  /** Throws `ERR_NIL_STORE` / `ERR_UNSUPPORTED_STORE` synchronously for a handle that cannot be durable. */
  constructor(db: SqliteDatabase, options: SqliteRegistryStoreOptions = {}) {
    super();
    this.#db = checkDatabase(db);
    configure(this.#db);
    const t = SQLITE_REGISTRY_TABLE;
    this.#select = db.prepare(`SELECT value FROM ${t} WHERE key = ?`).pluck();
    this.#scanRange = db.prepare(`SELECT key, value FROM ${t} WHERE key >= ? AND key < ? ORDER BY key`);
    // A prefix of only 0xFF bytes (or none) has no upper bound: everything from it on matches.
    this.#scanFrom = db.prepare(`SELECT key, value FROM ${t} WHERE key >= ? ORDER BY key`);
    const insert = db.prepare(`INSERT OR REPLACE INTO ${t} (key, value) VALUES (?, ?)`);
    this.#insert = insert;
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
    this.#closeHandle = options.closeHandle === true;
  }

  /** Opens (creating if missing) the SQLite database file at `path`, and a store that closes it on `close()`. */
  static async open(path: string): Promise<SqliteRegistryStore> {
    const { default: Database } = await import('better-sqlite3');
    let db: SqliteDatabase;
    try {
      // timeout 0: a database held by another process is reported at once, not after 5 s of retries.
      db = new Database(path, { timeout: 0 }) as unknown as SqliteDatabase;
    } catch (err) {
      throw new KeyledgerError(ErrorCode.STORE_IO, `SqliteRegistryStore: cannot open ${path}`, { cause: err });
    }
    try {
      // Our own handle holds the file exclusively until close, as LevelDB's LOCK does: SQLite would
      // otherwise let a second process open it, and two appliers interleaving read-modify-write
      // cycles could lower a slot's epoch. (A handle the user passes in keeps the user's locking.)
      db.pragma('locking_mode = EXCLUSIVE');
      db.exec('BEGIN EXCLUSIVE; COMMIT');
    } catch (err) {
      db.close();
      const busy = (err as { code?: unknown }).code === 'SQLITE_BUSY';
      throw new KeyledgerError(
        busy ? ErrorCode.STORE_IN_USE : ErrorCode.STORE_IO,
        busy ? `SqliteRegistryStore: ${path} is open in another process; close it first` : `SqliteRegistryStore: cannot lock ${path}`,
        { cause: err },
      );
    }
    try {
      return new SqliteRegistryStore(db, { closeHandle: true });
    } catch (err) {
      db.close();
      throw err;
    }
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
      throw new KeyledgerError(
        ErrorCode.STORE_IO,
        'SqliteRegistryStore: the connection is inside a transaction; a write now would not be durable on return',
      );
    }
    // synchronous is per connection and the user shares ours: lowered, commits stop being synced.
    // The value is compiled into a PRAGMA's program, but SQLite marks every PRAGMA program run-once:
    // after its first run (done in the constructor) each run of the prepared statement recompiles it
    // and so reads the current level. The own cases pin this: the level lowered right after
    // construction, and lowered and restored between writes. pragma() would build a new statement
    // object on every call, ~10 µs per applyEntry here.
    const sync = this.#synchronous.get();
    if (sync !== SYNCHRONOUS_FULL) {
      throw new KeyledgerError(
        ErrorCode.STORE_IO,
        `SqliteRegistryStore: synchronous was changed to ${String(sync)}; it must stay FULL (2)`,
      );
    }
    // A lone statement outside a transaction is its own transaction (autocommit): atomic, and
    // synced at its commit like any other; BEGIN and COMMIT around it would only add two statements.
    if (puts.length === 1) this.#insert.run(puts[0]!.key, puts[0]!.value);
    else this.#writeAll(puts);
  }

  protected _scan(prefix: Uint8Array): StoreEntry[] {
    const end = prefixUpperBound(prefix);
    // .all(), not .iterate(): an open iterator would keep the connection busy for the caller's writes.
    return (end === undefined ? this.#scanFrom.all(prefix) : this.#scanRange.all(prefix, end)) as StoreEntry[];
  }

  protected _close(): void {
    if (this.#closeHandle && this.#db.open) this.#db.close();
  }
}
