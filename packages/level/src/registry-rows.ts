import { type StoreEntry, prefixUpperBound } from '@keyledger/core';
import type { LevelDatabase } from './level-registry-store.js';

/** The name of the sublevel that holds keyledger's rows, apart from the user's own data. */
export const LEVEL_REGISTRY_SUBLEVEL = 'keyledger-registry';

/** Binary in, binary out: passed on every call so that the user's own encodings never apply. */
const BINARY = { keyEncoding: 'view', valueEncoding: 'view' } as const;
export type BinaryOptions = typeof BINARY;
/** `sync: true` fsyncs LevelDB's log before a batch resolves; without it a power loss can drop an acknowledged write. */
const SYNC_BINARY = { ...BINARY, sync: true } as const;

/** The calls this adapter makes on the database itself. */
interface LevelRoot {
  get(key: Uint8Array, options: BinaryOptions): Promise<Uint8Array | undefined>;
  put(key: Uint8Array, value: Uint8Array, options: typeof SYNC_BINARY): Promise<void>;
  getMany(keys: Uint8Array[], options: BinaryOptions): Promise<(Uint8Array | undefined)[]>;
  batch(operations: { type: 'put'; key: Uint8Array; value: Uint8Array }[], options: typeof SYNC_BINARY): Promise<void>;
  iterator(options: BinaryOptions & { gte: Uint8Array; lt: Uint8Array; limit?: number }): { all(): Promise<[Uint8Array, Uint8Array][]> };
}

/**
 * keyledger's rows in a LevelDB database: the rows of the sublevel `keyledger-registry`, all reached
 * one way, through the database itself, with the sublevel's prefix laid in front of each key here.
 * The sublevel object is asked for its prefix only. Going through it would cost, per call, one
 * small array per key that V8 must move off its heap for the native binding (for a group of a
 * thousand keys, most of the batch's CPU time) and an extra layer of promises (a fifth of a single
 * applyEntry's own time). The keys are the sublevel's own, so a user's `db.sublevel('keyledger-registry')`
 * sees exactly these rows.
 */
export class LevelRows {
  readonly #root: LevelRoot;
  /** The sublevel's key prefix in the database, `!keyledger-registry!`. */
  readonly #prefix: Uint8Array;
  /** The first database key after every key of the sublevel. */
  readonly #end: Uint8Array;

  constructor(root: LevelRoot, prefix: Uint8Array) {
    this.#root = root;
    this.#prefix = prefix;
    // Defined: the prefix ends with '!', not 0xFF.
    this.#end = prefixUpperBound(prefix)!;
  }

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.#root.get(this.#prefixed([key])[0]!, BINARY);
  }

  getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    return this.#root.getMany(this.#prefixed(keys), BINARY);
  }

  /** One LevelDB WriteBatch, synced: atomic and durable when it resolves. */
  write(puts: readonly StoreEntry[]): Promise<void> {
    const keys = this.#prefixed(puts.map((p) => p.key));
    // A lone put is a WriteBatch of one inside LevelDB: as atomic, synced the same way.
    if (puts.length === 1) return this.#root.put(keys[0]!, puts[0]!.value, SYNC_BINARY);
    const ops = new Array<{ type: 'put'; key: Uint8Array; value: Uint8Array }>(puts.length);
    for (let i = 0; i < puts.length; i++) ops[i] = { type: 'put', key: keys[i]!, value: puts[i]!.value };
    return this.#root.batch(ops, SYNC_BINARY);
  }

  /**
   * The rows from `from` (inclusive) to `to` (exclusive; `undefined`: to the sublevel's end), keys
   * without the sublevel's prefix. Collected eagerly from one snapshot: an abandoned lazy iterator
   * would stay open until the database closes.
   */
  async scan(from: Uint8Array, to: Uint8Array | undefined): Promise<StoreEntry[]> {
    const [gte, lt] = to === undefined ? [this.#prefixed([from])[0]!, this.#end] : this.#prefixed([from, to]);
    const rows = await this.#root.iterator({ ...BINARY, gte: gte!, lt: lt! }).all();
    const at = this.#prefix.length;
    return rows.map(([key, value]) => ({ key: key.subarray(at), value }));
  }

  /** True when the sublevel holds at least one row. */
  async any(): Promise<boolean> {
    return (await this.#root.iterator({ ...BINARY, gte: this.#prefix, lt: this.#end, limit: 1 }).all()).length > 0;
  }

  /**
   * The database keys for `keys` (the sublevel's prefix ‖ key), laid in one buffer: one allocation
   * and one move to native memory for the whole group. The buffer may come from Node's shared pool:
   * it only ever holds these keys and is never handed out.
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
}

/** keyledger's rows in `db`, at the prefix abstract-level gives the sublevel `keyledger-registry`. */
export function openRows(db: LevelDatabase): LevelRows {
  const sublevel = db.sublevel(LEVEL_REGISTRY_SUBLEVEL, BINARY) as { prefix: string };
  return new LevelRows(db as unknown as LevelRoot, new TextEncoder().encode(sublevel.prefix));
}
