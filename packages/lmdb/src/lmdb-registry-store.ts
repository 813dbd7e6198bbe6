import { BaseRegistryStore, ErrorCode, KeyledgerError, prefixUpperBound } from '@keyledger/core';
import type { StoreEntry } from '@keyledger/core';

/** The name of the sub-database that holds keyledger's rows, apart from the user's own data. */
export const LMDB_REGISTRY_DB_NAME = 'keyledger-registry';

/** The slice of an lmdb named database this adapter calls. */
export interface LmdbDatabase {
  get(key: Uint8Array): Uint8Array | undefined;
  put(key: Uint8Array, value: Uint8Array): unknown;
  /**
   * Runs `action` in a write transaction on the calling thread and commits it before returning.
   * Unless the environment was opened with `noSync` (refused by the constructor), the commit
   * includes the data sync and the synced meta page, overlappingSync or not.
   */
  transactionSync<T>(action: () => T): T;
  getRange(options: { start?: Uint8Array; end?: Uint8Array }): Iterable<{ key: Uint8Array; value: Uint8Array }>;
}

/**
 * The slice of an lmdb `RootDatabase` (the value `open()` from `lmdb` returns) this adapter reads.
 * Declared structurally so that the adapter loads `lmdb` only in {@link LmdbRegistryStore.open}.
 * The optional fields are set by lmdb at runtime but absent from its typings; the constructor
 * checks them.
 */
export interface LmdbRootDatabase {
  readonly env?: object;
  readonly path?: string;
  readonly isRoot?: boolean;
  readonly status?: string;
  readonly readOnly?: boolean;
  readonly noSync?: boolean;
  readonly noMetaSync?: boolean;
  readonly mapAsync?: boolean;
  readonly deleteOnClose?: boolean;
  openDB(options: { name: string; keyEncoding: 'binary'; encoding: 'binary' }): LmdbDatabase | undefined;
  close(): Promise<void>;
}

export interface LmdbRegistryStoreOptions {
  /** Close the root database when the store closes. Default `false`: the handle is yours. */
  closeHandle?: boolean;
}

const PASS_INSTEAD = 'pass the root database returned by open(path) from lmdb, opened without noSync, readOnly or a temporary path';

function refuse(what: string): KeyledgerError {
  return new KeyledgerError(ErrorCode.UNSUPPORTED_STORE, `LmdbRegistryStore: ${what}; ${PASS_INSTEAD}`);
}

function checkRoot(root: unknown): LmdbRootDatabase {
  if (root === null || root === undefined) {
    throw new KeyledgerError(ErrorCode.NIL_STORE, `LmdbRegistryStore: no database given; ${PASS_INSTEAD}`);
  }
  const r = root as Partial<LmdbRootDatabase>;
  if (typeof r !== 'object' || typeof r.env !== 'object' || typeof r.path !== 'string' || typeof r.openDB !== 'function') {
    throw refuse('the handle is not an lmdb database (no env, path and openDB)');
  }
  if (r.isRoot !== true) throw refuse('the handle is a named sub-database, not the root');
  if (r.status !== 'open') throw refuse(`the root database is ${r.status ?? 'not open'}`);
  if (r.readOnly === true) throw refuse('the root database is read-only');
  // Each of these acknowledges a commit before it reaches the disk: a power loss could then forget
  // a registration, and a rolled-back epoch would be accepted.
  if (r.deleteOnClose === true) throw refuse('the root database is temporary (opened without a path, deleted on close)');
  if (r.noSync === true) throw refuse('the root database was opened with noSync, so commits are never synced');
  if (r.noMetaSync === true) throw refuse('the root database was opened with noMetaSync, so a crash can undo the last commit');
  if (r.mapAsync === true) throw refuse('the root database was opened with mapAsync, so commits are flushed asynchronously');
  return r as LmdbRootDatabase;
}

const PROBE_KEY = Buffer.from([0]);

/** lmdb's marker for an open write transaction on the environment (sync, or an async callback running). */
function inWriteTxn(root: LmdbRootDatabase): boolean {
  return Boolean((root.env as { writeTxn?: unknown } | undefined)?.writeTxn);
}

/**
 * A durable `RegistryStore` (`@keyledger/core`) over an lmdb root database. Rows live in the named sub-database
 * `keyledger-registry` with binary keys and values, so the root's own encoding and the user's other
 * data are untouched.
 *
 * @example
 * const store = await LmdbRegistryStore.open('/var/lib/app/keyledger');
 * const applier = await Applier.open(store);
 */
export class LmdbRegistryStore extends BaseRegistryStore {
  readonly kind = 'lmdb';
  readonly #root: LmdbRootDatabase;
  readonly #db: LmdbDatabase;
  readonly #closeHandle: boolean;

  /** Throws `ERR_NIL_STORE` / `ERR_UNSUPPORTED_STORE` synchronously for a handle that cannot be durable. */
  constructor(root: LmdbRootDatabase, options: LmdbRegistryStoreOptions = {}) {
    super();
    this.#root = checkRoot(root);
    let db: LmdbDatabase | undefined;
    try {
      db = this.#root.openDB({ name: LMDB_REGISTRY_DB_NAME, keyEncoding: 'binary', encoding: 'binary' });
    } catch (err) {
      // Typically MDB_DBS_FULL: the root was opened with too small a maxDbs for one more sub-database.
      throw new KeyledgerError(ErrorCode.UNSUPPORTED_STORE, `LmdbRegistryStore: cannot open the sub-database ${LMDB_REGISTRY_DB_NAME}`, {
        cause: err,
      });
    }
    if (db === undefined) throw refuse(`the sub-database ${LMDB_REGISTRY_DB_NAME} cannot be opened`);
    this.#db = db;
    this.#closeHandle = options.closeHandle === true;
  }

  /**
   * Opens (creating if missing) the lmdb environment at `path` with lmdb's durable defaults, and a
   * store that closes it on `close()`.
   */
  static async open(path: string): Promise<LmdbRegistryStore> {
    const { open } = await import('lmdb');
    // No noSync/noMetaSync: every commit is synced. _write commits with transactionSync, which
    // syncs before it returns even under the default overlappingSync.
    let root: LmdbRootDatabase;
    try {
      root = open(path, {}) as unknown as LmdbRootDatabase;
    } catch (err) {
      throw new KeyledgerError(ErrorCode.STORE_IO, `LmdbRegistryStore: cannot open ${path}`, { cause: err });
    }
    try {
      return new LmdbRegistryStore(root, { closeHandle: true });
    } catch (err) {
      await root.close();
      throw err;
    }
  }

  protected _get(key: Uint8Array): Uint8Array | undefined {
    return this.#db.get(key);
  }

  protected _write(puts: readonly StoreEntry[]): void {
    if (this.#root.status !== 'open') {
      // Once the root is closed, lmdb's write path throws from a background tick, out of reach of
      // any promise: an uncaught exception that ends the process. A read raises the same
      // condition as a catchable lmdb error, which the base class reports as ERR_STORE_IO.
      this.#db.get(PROBE_KEY);
      throw new KeyledgerError(ErrorCode.STORE_IO, `lmdb root database at ${this.#root.path} is ${this.#root.status ?? 'not open'}`);
    }
    if (puts.length === 0) return;
    // Inside the user's open write transaction, ours would become part of theirs and be durable
    // only when theirs commits: acknowledging it now could lose it to a crash.
    if (inWriteTxn(this.#root)) {
      throw new KeyledgerError(
        ErrorCode.STORE_IO,
        'LmdbRegistryStore: a write transaction is open on this environment; a write now would not be durable on return',
      );
    }
    // One transaction: all puts commit together or not at all. transactionSync returns after the
    // commit and its sync (the data pages synced, then the meta page written through lmdb's
    // O_DSYNC descriptor). The async `transaction` resolves at the commit, before the sync under
    // overlappingSync, and costs two hops through lmdb's write thread; this blocks the event loop
    // for the commit instead.
    this.#db.transactionSync(() => {
      for (const p of puts) this.#db.put(p.key, p.value);
    });
  }

  protected _scan(prefix: Uint8Array): StoreEntry[] {
    const end = prefixUpperBound(prefix);
    // Collected eagerly from one read snapshot: an abandoned lazy range would pin its read transaction.
    return [...this.#db.getRange(end === undefined ? { start: prefix } : { start: prefix, end })];
  }

  protected async _close(): Promise<void> {
    // The sub-database handle is left to lmdb (closing a dbi is unnecessary and unsafe while the
    // user's root is open); the root is closed only when this store opened it.
    if (this.#closeHandle && this.#root.status === 'open') await this.#root.close();
  }
}
