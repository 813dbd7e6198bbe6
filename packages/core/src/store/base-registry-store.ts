import { ErrorCode, KeyledgerError, storeIo } from '../errors.js';
import { type MaybeAsync, isThenable } from '../maybe-async.js';
import type { RegistryStore, StoreEntry } from './registry-store.js';
import { ScanOrder, checkArray, checkBytes, checkKey, checkManyValues, checkPut, checkReadValue } from './store-checks.js';

/** A private copy: callers and backends must never share a buffer, or a later mutation would rewrite a stored row. */
export function copyBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}

/**
 * Private copies of many buffers (`undefined` stays `undefined`), laid end to end in one fresh
 * buffer. Same guarantee as {@link copyBytes}: nothing is shared with the caller or the backend.
 * One allocation instead of one per buffer; and V8 keeps a small typed array on its heap until its
 * `buffer` is first touched, which a native binding (lmdb, classic-level, better-sqlite3) does on
 * every call, so handing it a view of one larger buffer avoids a move per key and per value.
 */
function copyAll<T extends Uint8Array | undefined>(parts: readonly T[]): T[] {
  let total = 0;
  for (const p of parts) if (p !== undefined) total += p.length;
  const slab = new Uint8Array(total);
  const out = new Array<T>(parts.length);
  let at = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p === undefined) {
      out[i] = p as T;
      continue;
    }
    slab.set(p, at);
    out[i] = slab.subarray(at, at + p.length) as T;
    at += p.length;
  }
  return out;
}

function noValue(): void {}

/**
 * Core-internal (not exported from the package): the applier's reads and writes with buffers it
 * hands over, never touches again and has not shared with anyone, so the store skips its copies in.
 * A group makes a million of them, and each copy is a typed-array view on V8's young heap. Set by
 * the class's static block, the one place that can reach its private methods, so that they are
 * not a member of every store.
 */
let handedOver!: {
  getMany(store: BaseRegistryStore, keys: readonly Uint8Array[]): MaybeAsync<(Uint8Array | undefined)[]>;
  write(store: BaseRegistryStore, puts: readonly StoreEntry[]): MaybeAsync<void>;
};

/**
 * `store.write(puts)`, without the copy when the store is one of ours and does not override
 * `write` (a subclass that does is called as usual): `puts` and their bytes must be the caller's
 * alone, and never changed again. Over a synchronous backend it writes before it returns (and
 * throws what the promise would reject with); otherwise it returns the write's promise.
 */
export function writeHandedOver(store: RegistryStore, puts: readonly StoreEntry[]): MaybeAsync<void> {
  return store instanceof BaseRegistryStore && store.write === BaseRegistryStore.prototype.write
    ? handedOver.write(store, puts)
    : store.write(puts);
}

/** `store.getMany(keys)` (or one `get` per key), without copying `keys` in; the same conditions and timing as `writeHandedOver`. */
export function getManyHandedOver(store: RegistryStore, keys: readonly Uint8Array[]): MaybeAsync<(Uint8Array | undefined)[]> {
  if (store instanceof BaseRegistryStore && store.getMany === BaseRegistryStore.prototype.getMany) return handedOver.getMany(store, keys);
  return store.getMany ? store.getMany(keys) : Promise.all(keys.map((k) => store.get(k)));
}

/**
 * Runs a backend call: a failure is ERR_STORE_IO carrying the backend's error, thrown at once when
 * the backend answers synchronously (lmdb, better-sqlite3), a rejection when it answers with a
 * promise. A value that breaks the contract (thrown by `done`) stays ERR_STORE_CONTRACT.
 */
function settleNow<T, R>(operation: string, call: () => T | PromiseLike<T>, done: (v: T) => R): MaybeAsync<R> {
  let v: T | PromiseLike<T>;
  try {
    v = call();
  } catch (err) {
    throw storeIo(operation, err);
  }
  if (!isThenable(v)) return done(v);
  return Promise.resolve(v).then(done, (err: unknown) => {
    throw storeIo(operation, err);
  });
}

/** The public methods' form of a maybe-synchronous operation: always a promise, never a throw. */
function promised<R>(operation: () => MaybeAsync<R>): Promise<R> {
  try {
    return Promise.resolve(operation());
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * Template for {@link RegistryStore} implementations (in the manner of abstract-level):
 * the public methods validate arguments, enforce the closed state, copy buffers in and out, and
 * wrap backend failures as `ERR_STORE_IO`; subclasses implement only `_get`, `_write`, `_scan`,
 * `_close` (and optionally `_getMany`) and never re-validate.
 */
export abstract class BaseRegistryStore implements RegistryStore {
  abstract readonly kind: string;
  #closed = false;

  protected abstract _get(key: Uint8Array): Promise<Uint8Array | undefined> | Uint8Array | undefined;
  protected abstract _write(puts: readonly StoreEntry[]): Promise<void> | void;
  protected abstract _scan(prefix: Uint8Array): AsyncIterable<StoreEntry> | Iterable<StoreEntry>;
  protected abstract _close(): Promise<void> | void;
  /**
   * Override when the backend can read many keys in one call; the default reads one by one, and
   * waits only for a `_get` that returns a promise.
   */
  protected _getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> | (Uint8Array | undefined)[] {
    const out = new Array<Uint8Array | undefined>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const v = this._get(keys[i]!);
      if (isThenable(v)) return this.#getManyFrom(keys, i, v, out);
      out[i] = v;
    }
    return out;
  }

  async #getManyFrom(
    keys: readonly Uint8Array[],
    from: number,
    pending: PromiseLike<Uint8Array | undefined>,
    out: (Uint8Array | undefined)[],
  ): Promise<(Uint8Array | undefined)[]> {
    out[from] = await pending;
    for (let i = from + 1; i < keys.length; i++) out[i] = await this._get(keys[i]!);
    return out;
  }

  get closed(): boolean {
    return this.#closed;
  }

  protected assertOpen(operation: string): void {
    if (this.#closed) throw new KeyledgerError(ErrorCode.STORE_CLOSED, `${this.kind} store is closed (${operation} after close)`);
  }

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return promised(() => {
      this.assertOpen('get');
      checkKey(key);
      return settleNow(
        'get',
        () => this._get(copyBytes(key)),
        (v) => {
          checkReadValue(this.kind, 'get', v);
          return v === undefined ? undefined : copyBytes(v);
        },
      );
    });
  }

  static {
    handedOver = {
      getMany: (store, keys) => store.#getMany(keys, false),
      write: (store, puts) => store.#write(puts, false),
    };
  }

  getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    return promised(() => this.#getMany(keys, true));
  }

  /** Checks, then reads: throws a bad argument, and a synchronous backend's failure, at once. */
  #getMany(keys: readonly Uint8Array[], copyIn: boolean): MaybeAsync<(Uint8Array | undefined)[]> {
    this.assertOpen('getMany');
    checkArray('getMany', keys);
    keys.forEach(checkKey);
    const own = copyIn ? copyAll(keys) : keys;
    if (own.length === 0) return [];
    return settleNow(
      'getMany',
      () => this._getMany(own),
      (values) => {
        checkManyValues(this.kind, own.length, values);
        return copyAll(values);
      },
    );
  }

  write(puts: readonly StoreEntry[]): Promise<void> {
    return promised(() => this.#write(puts, true));
  }

  /** Checks, then writes: throws a bad argument, and a synchronous backend's failure, at once. */
  #write(puts: readonly StoreEntry[], copyIn: boolean): MaybeAsync<void> {
    this.assertOpen('write');
    checkArray('write', puts);
    let total = 0;
    for (let i = 0; i < puts.length; i++) {
      const p: unknown = puts[i];
      checkPut(p);
      total += p.key.length + p.value.length;
    }
    if (!copyIn) return settleNow('write', () => this._write(puts), noValue);
    // The same one-buffer copy as copyAll, without its intermediate arrays (a group writes thousands of puts).
    const slab = new Uint8Array(total);
    const own = new Array<StoreEntry>(puts.length);
    let at = 0;
    for (let i = 0; i < puts.length; i++) {
      const { key, value } = puts[i]!;
      const valueAt = at + key.length;
      const end = valueAt + value.length;
      slab.set(key, at);
      slab.set(value, valueAt);
      own[i] = { key: slab.subarray(at, valueAt), value: slab.subarray(valueAt, end) };
      at = end;
    }
    return settleNow('write', () => this._write(own), noValue);
  }

  async *scan(prefix: Uint8Array): AsyncIterable<StoreEntry> {
    this.assertOpen('scan');
    checkBytes('prefix', prefix);
    const p = copyBytes(prefix);
    const order: ScanOrder = new ScanOrder(this.kind, p);
    let it: AsyncIterator<StoreEntry> | Iterator<StoreEntry>;
    try {
      const src = this._scan(p);
      it = Symbol.asyncIterator in src ? src[Symbol.asyncIterator]() : src[Symbol.iterator]();
    } catch (err) {
      throw storeIo('scan', err);
    }
    try {
      for (;;) {
        this.assertOpen('scan');
        let r: IteratorResult<StoreEntry>;
        try {
          r = await it.next();
        } catch (err) {
          throw storeIo('scan', err);
        }
        if (r.done) return;
        order.check(r.value);
        yield { key: copyBytes(r.value.key), value: copyBytes(r.value.value) };
      }
    } finally {
      // A caller that stops early must not leave a backend cursor (and its read transaction) open.
      await Promise.resolve(it.return?.()).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this._close();
    } catch (err) {
      throw storeIo('close', err);
    }
  }
}
