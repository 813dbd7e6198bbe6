import { ErrorCode, KeyledgerError, storeIo } from '../errors.js';
import { MAX_KEY_LENGTH, type RegistryStore, type StoreEntry } from './registry-store.js';

function checkBytes(what: string, b: unknown): asserts b is Uint8Array {
  if (!(b instanceof Uint8Array)) {
    throw new KeyledgerError(ErrorCode.UNSUPPORTED_STORE, `${what} must be a Uint8Array`);
  }
}

function checkKey(key: unknown): asserts key is Uint8Array {
  checkBytes('key', key);
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new KeyledgerError(
      ErrorCode.UNSUPPORTED_STORE,
      `key length ${key.length} is outside 1..${MAX_KEY_LENGTH}`,
    );
  }
}

/** A private copy: callers and backends must never share a buffer, or a later mutation would rewrite a stored row. */
export function copyBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
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
  /** Override when the backend can read many keys in one call; the default reads one by one. */
  protected async _getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    const out: (Uint8Array | undefined)[] = [];
    for (const k of keys) out.push(await this._get(k));
    return out;
  }

  get closed(): boolean {
    return this.#closed;
  }

  protected assertOpen(operation: string): void {
    if (this.#closed) {
      throw new KeyledgerError(ErrorCode.UNSUPPORTED_STORE, `${this.kind} store is closed (${operation} after close)`);
    }
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.assertOpen('get');
    checkKey(key);
    let v: Uint8Array | undefined;
    try {
      v = await this._get(copyBytes(key));
    } catch (err) {
      throw storeIo('get', err);
    }
    return v === undefined ? undefined : copyBytes(v);
  }

  async getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    this.assertOpen('getMany');
    if (!Array.isArray(keys)) throw new KeyledgerError(ErrorCode.UNSUPPORTED_STORE, 'getMany takes an array of keys');
    keys.forEach(checkKey);
    if (keys.length === 0) return [];
    let vs: (Uint8Array | undefined)[];
    try {
      vs = await this._getMany(keys.map(copyBytes));
    } catch (err) {
      throw storeIo('getMany', err);
    }
    return vs.map((v) => (v === undefined ? undefined : copyBytes(v)));
  }

  async write(puts: readonly StoreEntry[]): Promise<void> {
    this.assertOpen('write');
    if (!Array.isArray(puts)) throw new KeyledgerError(ErrorCode.UNSUPPORTED_STORE, 'write takes an array of puts');
    const own: StoreEntry[] = [];
    for (const p of puts) {
      if (typeof p !== 'object' || p === null) throw new KeyledgerError(ErrorCode.UNSUPPORTED_STORE, 'each put must be { key, value }');
      checkKey(p.key);
      checkBytes('value', p.value);
      own.push({ key: copyBytes(p.key), value: copyBytes(p.value) });
    }
    try {
      await this._write(own);
    } catch (err) {
      throw storeIo('write', err);
    }
  }

  async *scan(prefix: Uint8Array): AsyncIterable<StoreEntry> {
    this.assertOpen('scan');
    checkBytes('prefix', prefix);
    const p = copyBytes(prefix);
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
