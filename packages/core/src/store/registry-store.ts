/** One key/value pair written or scanned. Keys and values are arbitrary bytes. */
export interface StoreEntry {
  key: Uint8Array;
  value: Uint8Array;
}

/**
 * Where the applier keeps the writer registry and the encryption state. The contract below is
 * every rule `@keyledger/core/conformance` checks (docs/design.md, section 'Store contract'):
 * a store that keeps all of them passes the suite.
 *
 * Values and keys
 * - `get` resolves to a copy the caller may keep and mutate, and to `undefined` (never `null`,
 *   never an empty array) for an absent key: an empty value is a present, malformed row.
 * - Keys are 1 to 511 bytes, values any length (0 included); both are arbitrary bytes (0x00 and
 *   0xFF included) and compared as bytes, never as decoded strings.
 * - `write` copies what it is given: mutating a key or value afterwards changes nothing stored.
 *   Within one write the last put for a key wins; an empty write is allowed and changes nothing.
 * - `getMany` (optional; declare `getMany: false` to the suite without it) resolves to one value
 *   or `undefined` per key, in the order of `keys`, as copies.
 * - `scan(prefix)` yields copies of exactly the keys that start with `prefix` (an all-0xFF prefix
 *   has no upper bound; the empty prefix yields every key), in unsigned byte order
 *   (`compareBytes`), each once.
 *
 * Atomicity and durability
 * - `write` is atomic: all puts or none become visible, to a concurrent `get` or `scan` in the
 *   same process while it is in flight (no put may be visible before the others), after a
 *   failure, and after a crash.
 * - `write` is durable: when it resolves the backend's sync has completed (an fsync-family call
 *   inside the write, and after a rename, a sync of the directory), so the data survives a
 *   process kill and a power loss. Acknowledging before the sync lets a crash forget a
 *   registration, after which a rolled-back epoch would be accepted and a nonce reused.
 * - A write whose persist fails rejects with `ERR_STORE_IO` and leaves none of its puts visible,
 *   in memory or on disk.
 * - Data written before `close` is there when the same directory is reopened.
 *
 * Errors
 * - Bad arguments (a non-array where an array is due, a non-`Uint8Array` key, value or prefix, a
 *   key of 0 or more than 511 bytes, a put that is not `{ key, value }`) reject with
 *   `ERR_INVALID_ARGUMENT` before anything reaches the backend; nothing is written.
 * - Every call after `close` rejects with `ERR_STORE_CLOSED`; `close` twice resolves.
 * - Every backend failure rejects with `ERR_STORE_IO` carrying the backend's error as `cause`.
 *
 * {@link BaseRegistryStore} does the argument checks, copies, closed state and error wrapping,
 * and refuses (`ERR_STORE_CONTRACT`) a backend answer that breaks the rules above (a `_get`
 * returning `null`, a `_scan` out of order or outside the prefix); extend it and implement only
 * the `_` methods.
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
