import { ErrorCode, KeyledgerError, type RegistryStore, type StoreEntry } from '../index.js';

export type FaultOperation = 'get' | 'write' | 'scan';

/** Which calls fail: the `nth` call of `operation` (1-based), once or from then on. */
export interface FaultPlan {
  operation: FaultOperation;
  nth: number;
  mode: 'once' | 'forever';
}

/**
 * Wraps a store and fails chosen calls with ERR_STORE_IO before they reach the backend, in the
 * manner of SQLite's I/O-error loops. It also counts calls, so a case can assert that an
 * idempotent replay wrote nothing.
 */
export class FaultyStore implements RegistryStore {
  readonly calls: Record<FaultOperation, number> = { get: 0, write: 0, scan: 0 };
  plan: FaultPlan | undefined;

  constructor(readonly inner: RegistryStore) {}

  get kind(): string {
    return this.inner.kind;
  }

  #fault(operation: FaultOperation): void {
    const n = ++this.calls[operation];
    const p = this.plan;
    if (!p || p.operation !== operation) return;
    if (n === p.nth || (p.mode === 'forever' && n > p.nth)) {
      throw new KeyledgerError(ErrorCode.STORE_IO, `injected ${operation} failure (call ${n})`, {
        cause: Object.assign(new Error(`injected fault in ${operation}`), { code: 'EIO' }),
      });
    }
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.#fault('get');
    return this.inner.get(key);
  }

  // getMany counts as reads: one fault point per batched read, like a backend's multi-get.
  getMany = async (keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> => {
    this.#fault('get');
    if (this.inner.getMany) return this.inner.getMany(keys);
    return Promise.all(keys.map((k) => this.inner.get(k)));
  };

  async write(puts: readonly StoreEntry[]): Promise<void> {
    this.#fault('write');
    return this.inner.write(puts);
  }

  async *scan(prefix: Uint8Array): AsyncIterable<StoreEntry> {
    this.#fault('scan');
    yield* this.inner.scan(prefix);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
