/** One key/value pair written or scanned. Keys and values are arbitrary bytes. */
export interface StoreEntry {
  key: Uint8Array;
  value: Uint8Array;
}

/**
 * Where the applier keeps the writer registry and the encryption state.
 *
 * Implementations MUST:
 * - make `write` atomic (all puts or none become visible, also across a crash) and durable
 *   (when it resolves, the backend's sync has completed: the data survives a process kill and a
 *   power loss). Acknowledging before the sync lets a crash forget a registration, after which a
 *   rolled-back epoch would be accepted and a nonce reused.
 * - return from `get` a copy the caller may keep, and `undefined` (never `null`, never an empty
 *   array) for an absent key: an empty value is a present, malformed row.
 * - yield from `scan` only keys starting with `prefix`, in unsigned byte order.
 * - accept arbitrary bytes (0x00 and 0xFF included) in keys up to 511 bytes and in values.
 * - reject every call after `close` with `ERR_UNSUPPORTED_STORE`, and every backend failure with
 *   `ERR_STORE_IO` carrying the backend's error as `cause`.
 *
 * {@link BaseRegistryStore} does the argument checks, copies, closed state and error wrapping;
 * extend it and implement only the `_` methods.
 */
export interface RegistryStore {
  /** 'lmdb' | 'level' | 'sqlite' | 'memory' | your backend's name. */
  readonly kind: string;
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /**
   * Optional batched read: values in the order of `keys`, `undefined` for absent ones.
   * The applier uses it for group commits; without it, it falls back to `get` per key.
   */
  getMany?(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  write(puts: readonly StoreEntry[]): Promise<void>;
  scan(prefix: Uint8Array): AsyncIterable<StoreEntry>;
  close(): Promise<void>;
}

/** The longest key a store must accept. */
export const MAX_KEY_LENGTH = 511;
