import { BaseRegistryStore } from './base-registry-store.js';
import { compareBytes, hexOf, startsWith } from '../bytes.js';
import type { StoreEntry } from './registry-store.js';

/**
 * The reference implementation of the store contract, in memory. It is not durable
 * (`kind: 'memory'`): use it in tests, never to run a replica.
 */
export class MemoryRegistryStore extends BaseRegistryStore {
  readonly kind = 'memory';
  // Keyed by hex so that two different byte keys can never collide (a decoded string would).
  readonly #rows = new Map<string, StoreEntry>();

  protected _get(key: Uint8Array): Uint8Array | undefined {
    return this.#rows.get(hexOf(key))?.value;
  }

  protected _write(puts: readonly StoreEntry[]): void {
    // Puts are already validated and copied by the base class, so applying them cannot fail
    // half-way: the write is atomic.
    for (const p of puts) this.#rows.set(hexOf(p.key), p);
  }

  protected *_scan(prefix: Uint8Array): Iterable<StoreEntry> {
    const hits = [...this.#rows.values()].filter((e) => startsWith(e.key, prefix));
    hits.sort((a, b) => compareBytes(a.key, b.key));
    yield* hits;
  }

  protected _close(): void {
    this.#rows.clear();
  }
}
