import {
  AdapterErrors,
  BaseRegistryStore,
  OwnedResources,
  prefixUpperBound,
  prepareStoreLocation,
  readCreateOption,
  restrictFilesIn,
} from '@keyledger/core';
import type { HandleRule, StoreEntry, StoreOpenOptions } from '@keyledger/core';
import { type BinaryOptions, type LevelRows, openRows } from './registry-rows.js';

export { LEVEL_REGISTRY_SUBLEVEL } from './registry-rows.js';

/**
 * The slice of a `Level` / `ClassicLevel` database this adapter reads. Declared structurally so
 * that the adapter loads `level` only in {@link LevelRegistryStore.open}.
 */
export interface LevelDatabase {
  /** The directory of an on-disk database; in-memory implementations have none. */
  readonly location?: string;
  readonly status: string;
  /** abstract-level's manifest: `permanence` is false for a database that does not survive a restart. */
  readonly supports: { readonly permanence?: boolean };
  sublevel(name: string, options: BinaryOptions): unknown;
  close(): Promise<void>;
}

export interface LevelRegistryStoreOptions {
  /** Close the database when the store closes. Default `false`: the handle is yours. */
  closeHandle?: boolean;
}

const errors = new AdapterErrors(
  'LevelRegistryStore',
  'pass an open on-disk database: new Level(path) from level, or new ClassicLevel(path)',
);

const DATABASE_MEMBERS = { sublevel: 'function', status: 'string', supports: 'object' } as const;

const DATABASE_RULES: readonly HandleRule<LevelDatabase>[] = [
  // Volatile, by abstract-level's manifest (memory-level says permanence: false): a volatile
  // database forgets every registration on restart, after which a rolled-back epoch would be
  // accepted and a nonce reused.
  (d) =>
    d.supports.permanence !== true
      ? `the database is not persistent (its manifest has permanence: ${String(d.supports.permanence)})`
      : undefined,
  (d) => (typeof d.location !== 'string' ? 'the handle is a sublevel or has no on-disk location, not the root database' : undefined),
  // 'opening' is accepted: level opens lazily and defers operations until it is open.
  (d) => (d.status !== 'open' && d.status !== 'opening' ? `the database is ${d.status}` : undefined),
];

/** abstract-level wraps the reason for a failed open (e.g. `LEVEL_LOCKED`) as the error's cause. */
function causeCode(err: unknown): unknown {
  return (err as { cause?: { code?: unknown } } | null)?.cause?.code;
}

/**
 * A durable `RegistryStore` (`@keyledger/core`) over a `level` / `classic-level` database. Rows live in the
 * sublevel `keyledger-registry`; every call passes binary encodings, so the database's own
 * `keyEncoding` / `valueEncoding` do not matter, and every batch is written with `sync: true`.
 *
 * @example
 * const store = await LevelRegistryStore.open('/var/lib/app/keyledger');
 * const applier = await Applier.open(store);
 */
export class LevelRegistryStore extends BaseRegistryStore {
  readonly kind = 'level';
  readonly #rows: LevelRows;
  readonly #owned = new OwnedResources();

  /** Throws `ERR_NIL_STORE` / `ERR_UNSUPPORTED_STORE` synchronously for a handle that cannot be durable. */
  constructor(db: LevelDatabase, options: LevelRegistryStoreOptions = {}) {
    super();
    const checked = errors.checkHandle(db, DATABASE_MEMBERS, 'an abstract-level database', DATABASE_RULES);
    this.#rows = openRows(checked);
    if (options.closeHandle === true) this.#owned.own(() => checked.close());
  }

  /**
   * Opens the LevelDB database at `path`, and a store that closes it on `close()`. With `create`
   * (the default) a missing database is created in a 0700 directory, its files narrowed to 0600
   * before any row is written. With `create: false`, a path without keyledger's rows is refused
   * with `ERR_STORE_NOT_FOUND`: a missing or empty directory untouched; an existing LevelDB
   * database must be opened to be read, which LevelDB cannot do read-only (it rotates its log and
   * manifest files), but none of its keys or values changes. Devices, FIFOs, files and directories
   * of other files are refused with `ERR_UNSUPPORTED_STORE` before LevelDB sees them.
   */
  static async open(path: string, options: StoreOpenOptions = {}): Promise<LevelRegistryStore> {
    const state = prepareStoreLocation(errors, path, options, { shape: 'directory', marker: 'CURRENT' });
    const create = readCreateOption(options);
    const { Level } = await import('level');
    const pending = new OwnedResources();
    return pending.openOrRelease(async () => {
      const db = new Level(path);
      try {
        await db.open({ createIfMissing: state === 'new' });
      } catch (err) {
        // LevelDB holds an exclusive lock on the directory's LOCK file for as long as a database is
        // open: a second process (or a second handle in this one) is refused. Two appliers on one
        // registry would interleave their read-modify-write cycles and could lower a slot's epoch.
        if (causeCode(err) === 'LEVEL_LOCKED') throw errors.inUse(path, err);
        throw errors.io(`cannot open ${JSON.stringify(path)}`, err);
      }
      pending.own(() => db.close());
      const store = new LevelRegistryStore(db, { closeHandle: true });
      if (!create && !(await store.#rows.any())) {
        throw errors.notFound(path, 'a LevelDB database without keyledger rows');
      }
      try {
        // LevelDB creates its files with the umask's mode; those of a store are 0600, and the ones
        // it adds later (compactions) sit in the store's 0700 directory.
        restrictFilesIn(path);
      } catch (err) {
        throw errors.io(`cannot restrict the files in ${JSON.stringify(path)} to 0600`, err);
      }
      return store;
    });
  }

  protected _get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.#rows.get(key);
  }

  protected override _getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    // A lone key (a sequential caller's registration) costs less as one get than as a getMany.
    return keys.length === 1 ? this.#rows.get(keys[0]!).then((v) => [v]) : this.#rows.getMany(keys);
  }

  protected async _write(puts: readonly StoreEntry[]): Promise<void> {
    if (puts.length > 0) await this.#rows.write(puts);
  }

  protected async *_scan(prefix: Uint8Array): AsyncIterable<StoreEntry> {
    yield* await this.#rows.scan(prefix, prefixUpperBound(prefix));
  }

  protected _close(): Promise<void> {
    return this.#owned.releaseAll();
  }
}
