import { BaseRegistryStore, ErrorCode, KeyledgerError, prefixUpperBound } from '@keyledger/core';
import type { StoreEntry } from '@keyledger/core';

/** The name of the sublevel that holds keyledger's rows, apart from the user's own data. */
export const LEVEL_REGISTRY_SUBLEVEL = 'keyledger-registry';

/** Binary in, binary out: passed on every call so that the user's own encodings never apply. */
const BINARY = { keyEncoding: 'view', valueEncoding: 'view' } as const;
type BinaryOptions = typeof BINARY;
const SYNC_BINARY = { ...BINARY, sync: true } as const;

/** Reads and batches, as both the database and its sublevel offer them. */
interface LevelReadWrite {
  get(key: Uint8Array, options: BinaryOptions): Promise<Uint8Array | undefined>;
  put(key: Uint8Array, value: Uint8Array, options: BinaryOptions & { sync: boolean }): Promise<void>;
  getMany(keys: Uint8Array[], options: BinaryOptions): Promise<(Uint8Array | undefined)[]>;
  batch(operations: { type: 'put'; key: Uint8Array; value: Uint8Array }[], options: BinaryOptions & { sync: boolean }): Promise<void>;
}

/** The slice of an abstract-level sublevel this adapter calls. */
interface LevelSublevel extends LevelReadWrite {
  /** The sublevel's key prefix in the database, e.g. `!keyledger-registry!`. */
  readonly prefix: string;
  iterator(options: BinaryOptions & { gte: Uint8Array; lt?: Uint8Array }): { all(): Promise<[Uint8Array, Uint8Array][]> };
}

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

/** abstract-level wraps the reason for a failed open (e.g. `LEVEL_LOCKED`) as the error's cause. */
function causeCode(err: unknown): unknown {
  return (err as { cause?: { code?: unknown } } | null)?.cause?.code;
}

const PASS_INSTEAD = 'pass an open on-disk database: new Level(path) from level, or new ClassicLevel(path)';

function refuse(what: string): KeyledgerError {
  return new KeyledgerError(ErrorCode.UNSUPPORTED_STORE, `LevelRegistryStore: ${what}; ${PASS_INSTEAD}`);
}

function checkDatabase(db: unknown): LevelDatabase {
  if (db === null || db === undefined) {
    throw new KeyledgerError(ErrorCode.NIL_STORE, `LevelRegistryStore: no database given; ${PASS_INSTEAD}`);
  }
  const d = db as Partial<LevelDatabase>;
  if (typeof d !== 'object' || typeof d.sublevel !== 'function' || typeof d.status !== 'string' || typeof d.supports !== 'object') {
    throw refuse('the handle is not an abstract-level database (no sublevel, status and supports)');
  }
  // A volatile database forgets every registration on restart, after which a rolled-back epoch
  // would be accepted and a nonce reused.
  if (d.supports.permanence !== true || d.constructor?.name === 'MemoryLevel') {
    throw refuse(`the database (${d.constructor?.name ?? 'unknown'}) is not persistent`);
  }
  if (typeof d.location !== 'string') throw refuse('the handle is a sublevel or has no on-disk location, not the root database');
  // 'opening' is accepted: level opens lazily and defers operations until it is open.
  if (d.status !== 'open' && d.status !== 'opening') throw refuse(`the database is ${d.status}`);
  return d as LevelDatabase;
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
  readonly #db: LevelDatabase;
  readonly #rows: LevelSublevel;
  /** The database itself, for reads and writes of keys prefixed here (see #prefixed). */
  readonly #root: LevelReadWrite;
  readonly #prefix: Uint8Array;
  readonly #closeHandle: boolean;

  /** Throws `ERR_NIL_STORE` / `ERR_UNSUPPORTED_STORE` synchronously for a handle that cannot be durable. */
  constructor(db: LevelDatabase, options: LevelRegistryStoreOptions = {}) {
    super();
    this.#db = checkDatabase(db);
    this.#rows = this.#db.sublevel(LEVEL_REGISTRY_SUBLEVEL, BINARY) as LevelSublevel;
    this.#root = this.#db as unknown as LevelReadWrite;
    this.#prefix = new TextEncoder().encode(this.#rows.prefix);
    this.#closeHandle = options.closeHandle === true;
  }

  /** Opens (creating if missing) the LevelDB database at `path`, and a store that closes it on `close()`. */
  static async open(path: string): Promise<LevelRegistryStore> {
    const { Level } = await import('level');
    const db = new Level(path);
    try {
      await db.open();
    } catch (err) {
      // LevelDB holds an exclusive lock on the directory's LOCK file for as long as a database is
      // open: a second process (or a second handle in this one) is refused. Two appliers on one
      // registry would interleave their read-modify-write cycles and could lower a slot's epoch.
      if (causeCode(err) === 'LEVEL_LOCKED') {
        throw new KeyledgerError(
          ErrorCode.STORE_IN_USE,
          `LevelRegistryStore: ${path} is open in another process or handle; close it first`,
          { cause: err },
        );
      }
      throw new KeyledgerError(ErrorCode.STORE_IO, `LevelRegistryStore: cannot open ${path}`, { cause: err });
    }
    try {
      return new LevelRegistryStore(db, { closeHandle: true });
    } catch (err) {
      await db.close();
      throw err;
    }
  }

  protected _get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.#root.get(this.#prefixed([key])[0]!, BINARY);
  }

  /**
   * The sublevel's keys for `keys` (the sublevel's prefix ‖ key), laid in one buffer. The
   * sublevel would build the same bytes, but as one small array per key, which V8 must then move
   * off its heap for the native binding, key by key; for a group of a thousand that was most of
   * the batch's CPU time; for one key, the sublevel's extra layer of promises was a fifth of
   * applyEntry's own time. Reads and writes through these keys on the database are reads and
   * writes of the sublevel's rows: the same LevelDB keys, the same single atomic batch. The buffer
   * may come from Node's shared pool: it only ever holds these keys and is never handed out.
   */
  #prefixed(keys: readonly Uint8Array[]): Uint8Array[] {
    const p = this.#prefix;
    let total = 0;
    for (const k of keys) total += p.length + k.length;
    const slab = Buffer.allocUnsafe(total);
    const out = new Array<Uint8Array>(keys.length);
    let at = 0;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      slab.set(p, at);
      slab.set(k, at + p.length);
      out[i] = slab.subarray(at, at + p.length + k.length);
      at += p.length + k.length;
    }
    return out;
  }

  protected override _getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    return this.#root.getMany(this.#prefixed(keys), BINARY);
  }

  protected async _write(puts: readonly StoreEntry[]): Promise<void> {
    if (puts.length === 0) return;
    const keys = this.#prefixed(puts.map((p) => p.key));
    // A lone put is a WriteBatch of one inside LevelDB: as atomic, synced the same way.
    if (puts.length === 1) return this.#root.put(keys[0]!, puts[0]!.value, SYNC_BINARY);
    const ops = new Array<{ type: 'put'; key: Uint8Array; value: Uint8Array }>(puts.length);
    for (let i = 0; i < puts.length; i++) ops[i] = { type: 'put', key: keys[i]!, value: puts[i]!.value };
    // One batch is one LevelDB WriteBatch: atomic. `sync: true` fsyncs the log before the batch
    // resolves; without it a power loss can drop an acknowledged write.
    await this.#root.batch(ops, SYNC_BINARY);
  }

  protected async *_scan(prefix: Uint8Array): AsyncIterable<StoreEntry> {
    const lt = prefixUpperBound(prefix);
    // Collected eagerly from one snapshot: an abandoned lazy iterator would stay open until the
    // database closes.
    const rows = await this.#rows.iterator(lt === undefined ? { ...BINARY, gte: prefix } : { ...BINARY, gte: prefix, lt }).all();
    for (const [key, value] of rows) yield { key, value };
  }

  protected async _close(): Promise<void> {
    if (this.#closeHandle) await this.#db.close();
  }
}
