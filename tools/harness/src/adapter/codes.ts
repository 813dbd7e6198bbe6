/**
 * The error codes the adapter cases expect, as the strings `@keyledger/core`'s `ErrorCode` holds.
 * The harness cannot import core: core bundles the harness, and the dependency would be a cycle.
 * Tests compare codes, never classes, so the strings are the contract.
 */
export const CODES = {
  NIL_STORE: 'ERR_NIL_STORE',
  UNSUPPORTED_STORE: 'ERR_UNSUPPORTED_STORE',
  STORE_NOT_FOUND: 'ERR_STORE_NOT_FOUND',
  STORE_IN_USE: 'ERR_STORE_IN_USE',
  INVALID_ARGUMENT: 'ERR_INVALID_ARGUMENT',
  LOCAL_EPOCH_ROLLBACK: 'ERR_LOCAL_EPOCH_ROLLBACK',
} as const;

/** One put or scanned row, as core's `StoreEntry`. */
export interface Row {
  key: Uint8Array;
  value: Uint8Array;
}

/** The slice of core's `RegistryStore` the adapter cases call. */
export interface AdapterStore {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  write(puts: readonly Row[]): Promise<void>;
  close(): Promise<void>;
}
