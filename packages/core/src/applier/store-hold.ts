import { ErrorCode, KeyledgerError } from '../errors.js';
import type { RegistryStore } from '../store/registry-store.js';

// Shared through the global symbol registry so that two copies of core in one process still
// see each other's holds: two appliers on one store would interleave unserialized writes.
const HELD = Symbol.for('keyledger.heldStores');
const registry = globalThis as Record<symbol, unknown>;
registry[HELD] ??= new WeakSet<object>();
const heldStores = registry[HELD] as WeakSet<object>;

export function checkStore(store: unknown): asserts store is RegistryStore {
  if (store === null || store === undefined) {
    throw new KeyledgerError(ErrorCode.NIL_STORE, `Applier needs a RegistryStore, got ${String(store)}`);
  }
  const s = store as Partial<Record<keyof RegistryStore, unknown>>;
  const missing = (['get', 'write', 'scan', 'close'] as const).filter((m) => typeof s[m] !== 'function');
  if (typeof store !== 'object' || typeof s.kind !== 'string' || missing.length > 0) {
    throw new KeyledgerError(
      ErrorCode.UNSUPPORTED_STORE,
      `Applier needs a RegistryStore (kind, get, write, scan, close)${missing.length ? `; missing ${missing.join(', ')}` : ''}: pass an adapter such as SqliteRegistryStore`,
    );
  }
}

/** Marks the store as held by an applier; refuses one already held (ERR_STORE_IN_USE). */
export function holdStore(store: RegistryStore): void {
  if (heldStores.has(store)) {
    throw new KeyledgerError(ErrorCode.STORE_IN_USE, `this ${store.kind} store is already held by another Applier; close that one first`);
  }
  heldStores.add(store);
}

export function releaseStore(store: RegistryStore): void {
  heldStores.delete(store);
}
