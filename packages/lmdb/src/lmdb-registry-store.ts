import { statSync } from 'node:fs';
import { extname, join } from 'node:path';
import {
  AdapterErrors,
  BaseRegistryStore,
  OwnedResources,
  createPrivateFile,
  prefixUpperBound,
  prepareStoreLocation,
  readCreateOption,
} from '@keyledger/core';
import type { HandleRule, StoreEntry, StoreOpenOptions } from '@keyledger/core';
import { EnvironmentLock } from './environment-lock.js';
import { LMDB_REGISTRY_DB_NAME, type LmdbDatabase, hasRegistryDb, openRegistryDb } from './registry-db.js';

export { LMDB_REGISTRY_DB_NAME } from './registry-db.js';
export type { LmdbDatabase } from './registry-db.js';

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
  openDB(options: {
    name: string;
    keyEncoding: 'binary';
    encoding: 'binary';
    compression?: false;
    create?: boolean;
  }): LmdbDatabase | undefined;
  close(): Promise<void>;
}

export interface LmdbRegistryStoreOptions {
  /** Close the root database when the store closes. Default `false`: the handle is yours. */
  closeHandle?: boolean;
}

/** Handed from {@link LmdbRegistryStore.open} to the constructor: the lock open() took before lmdb saw the path. */
const HELD_LOCK = Symbol('keyledger.lmdb.heldLock');
interface ConstructionOptions extends LmdbRegistryStoreOptions {
  [HELD_LOCK]?: EnvironmentLock;
}

const errors = new AdapterErrors(
  'LmdbRegistryStore',
  'pass the root database returned by open(path) from lmdb, opened without noSync, readOnly or a temporary path',
);

const ROOT_MEMBERS = { env: 'object', path: 'string', openDB: 'function' } as const;

// A volatile root is recognised by its flags: each of these acknowledges a commit before it reaches
// the disk, so a power loss could forget a registration and a rolled-back epoch would be accepted.
const ROOT_RULES: readonly HandleRule<LmdbRootDatabase>[] = [
  (r) => (r.isRoot !== true ? 'the handle is a named sub-database, not the root' : undefined),
  (r) => (r.status !== 'open' ? `the root database is ${r.status ?? 'not open'}` : undefined),
  (r) => (r.readOnly === true ? 'the root database is read-only' : undefined),
  (r) => (r.deleteOnClose === true ? 'the root database is temporary (opened without a path, deleted on close)' : undefined),
  (r) => (r.noSync === true ? 'the root database was opened with noSync, so commits are never synced' : undefined),
  (r) => (r.noMetaSync === true ? 'the root database was opened with noMetaSync, so a crash can undo the last commit' : undefined),
  (r) => (r.mapAsync === true ? 'the root database was opened with mapAsync, so commits are flushed asynchronously' : undefined),
];

/** The environment's data file: `data.mdb` in its directory, or the path itself for a file environment. */
function dataFileOf(path: string): string {
  return statSync(path).isDirectory() ? join(path, 'data.mdb') : path;
}

const PROBE_KEY = Buffer.from([0]);

/** lmdb's marker for an open write transaction on the environment (sync, or an async callback running). */
function inWriteTxn(root: LmdbRootDatabase): boolean {
  return Boolean((root.env as { writeTxn?: unknown } | undefined)?.writeTxn);
}

/**
 * A durable `RegistryStore` (`@keyledger/core`) over an lmdb root database. Rows live in the named sub-database
 * `keyledger-registry` with binary keys and values, so the root's own encoding and the user's other
 * data are untouched. One store at a time applies to an environment: the store holds an exclusive
 * kernel lock on its data file from construction to close.
 *
 * @example
 * const store = await LmdbRegistryStore.open('/var/lib/app/keyledger');
 * const applier = await Applier.open(store);
 */
export class LmdbRegistryStore extends BaseRegistryStore {
  readonly kind = 'lmdb';
  readonly #root: LmdbRootDatabase;
  readonly #db: LmdbDatabase;
  readonly #owned = new OwnedResources();

  /**
   * Throws synchronously: `ERR_NIL_STORE` / `ERR_UNSUPPORTED_STORE` for a handle that cannot be
   * durable or whose `keyledger-registry` sub-database was not made by keyledger, and
   * `ERR_STORE_IN_USE` when another store, here or in another process, holds the environment.
   */
  constructor(root: LmdbRootDatabase, options: LmdbRegistryStoreOptions = {}) {
    super();
    this.#root = errors.checkHandle(root, ROOT_MEMBERS, 'an lmdb root database', ROOT_RULES);
    const held = (options as ConstructionOptions)[HELD_LOCK];
    const lock = held ?? EnvironmentLock.acquire(dataFileOf(this.#root.path!), errors);
    try {
      this.#db = openRegistryDb(this.#root, errors);
    } catch (err) {
      // A lock handed over by open() stays open()'s to release.
      if (held === undefined) lock.release();
      throw err;
    }
    // Released newest first: the root (when ours) closes before the lock lets another store in.
    this.#owned.own(() => lock.release());
    if (options.closeHandle === true) this.#owned.own(() => (this.#root.status === 'open' ? this.#root.close() : undefined));
  }

  /**
   * Opens the lmdb environment at `path` with lmdb's durable defaults, and a store that closes it
   * on `close()`. A path with an extension is a file environment, otherwise a directory (lmdb's
   * rule). With `create` (the default) a missing environment is created: directory 0700,
   * `data.mdb` and `lock.mdb` 0600. With `create: false`, a path without keyledger's sub-database
   * is refused with `ERR_STORE_NOT_FOUND`. Devices, FIFOs and other file types are refused with
   * `ERR_UNSUPPORTED_STORE` before lmdb sees them; a held environment with `ERR_STORE_IN_USE`
   * before lmdb opens it (opening an environment twice in one process is unsafe in LMDB).
   */
  static async open(path: string, options: StoreOpenOptions = {}): Promise<LmdbRegistryStore> {
    const asFile = typeof path === 'string' && extname(path) !== '';
    const state = prepareStoreLocation(errors, path, options, asFile ? { shape: 'file' } : { shape: 'directory', marker: 'data.mdb' });
    const create = readCreateOption(options);
    const dataFile = asFile ? path : join(path, 'data.mdb');
    if (state === 'new') {
      // Made here, 0600, so that lmdb opens files that already have a store's mode (LMDB treats an
      // empty data file as a new environment).
      try {
        createPrivateFile(dataFile);
        createPrivateFile(asFile ? `${path}-lock` : join(path, 'lock.mdb'));
      } catch (err) {
        throw errors.io(`cannot create the environment's files in ${JSON.stringify(path)}`, err);
      }
    }
    const pending = new OwnedResources();
    return pending.openOrRelease(async () => {
      const lock = EnvironmentLock.acquire(dataFile, errors);
      pending.own(() => lock.release());
      const { open } = await import('lmdb');
      let root: LmdbRootDatabase;
      try {
        // No noSync/noMetaSync: every commit is synced. _write commits with transactionSync, which
        // syncs before it returns even under the default overlappingSync.
        root = open(path, {}) as unknown as LmdbRootDatabase;
      } catch (err) {
        throw errors.io(`cannot open ${JSON.stringify(path)}`, err);
      }
      pending.own(() => root.close());
      if (!create && !hasRegistryDb(root)) {
        throw errors.notFound(path, `an lmdb environment without the sub-database ${LMDB_REGISTRY_DB_NAME}`);
      }
      return new LmdbRegistryStore(root, { closeHandle: true, [HELD_LOCK]: lock } as ConstructionOptions);
    });
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
      throw errors.io(`the root database at ${this.#root.path} is ${this.#root.status ?? 'not open'}`);
    }
    if (puts.length === 0) return;
    // Inside the user's open write transaction, ours would become part of theirs and be durable
    // only when theirs commits: acknowledging it now could lose it to a crash.
    if (inWriteTxn(this.#root)) {
      throw errors.io('a write transaction is open on this environment; a write now would not be durable on return');
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

  protected _close(): Promise<void> {
    // The sub-database handle is left to lmdb (closing a dbi is unnecessary and unsafe while the
    // user's root is open); the root is closed only when this store opened it.
    return this.#owned.releaseAll();
  }
}
