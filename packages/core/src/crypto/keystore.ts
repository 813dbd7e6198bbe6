import { timingSafeEqual } from 'node:crypto';
import { ErrorCode, KeyledgerError } from '../errors.js';

const DEK_LENGTH = 32;
const MAX_KEY_ID = 0xffff_ffff;

/**
 * The unwrapped DEKs a replica holds, by key id (u32, 1..0xFFFFFFFF; 0 is reserved as "no key").
 *
 * Buffers are copied in on {@link Keystore.add} and out on {@link Keystore.get}, so no caller can
 * change a held key or keep a reference that outlives {@link Keystore.close}. An id is bound to
 * one DEK for good: a second DEK under the same id would let two replicas encrypt under
 * different keys with the same id, so it is refused rather than replaced.
 *
 * After `close()` the store is empty and may be filled again (the applier rebuilds it when it
 * reloads its state).
 *
 * @example
 * ```ts
 * const ks = new Keystore();
 * ks.add(7, dek);
 * ks.add(7, dek);          // identical re-add: no-op
 * ks.get(7);               // a copy of dek
 * ks.close();              // zero-fills every held key
 * ```
 */
export class Keystore {
  readonly #keys = new Map<number, Uint8Array>();

  /**
   * Holds a copy of `dek` under `id`. Throws `ERR_RESERVED_KEY_ID` when `id` is 0 or not an
   * integer in 1..0xFFFFFFFF, `ERR_BAD_KEY_SIZE` when `dek` is not 32 bytes, and
   * `ERR_KEY_CONFLICT` when `id` is held with other bytes. Re-adding identical bytes is a no-op.
   */
  add(id: number, dek: Uint8Array): void {
    if (this.#check(id, dek)) return;
    this.#keys.set(id, new Uint8Array(dek));
  }

  /**
   * Throws exactly what {@link Keystore.add} would throw, without changing anything, so a caller
   * can validate before a durable write and add only once the write has succeeded.
   */
  assertCanAdd(id: number, dek: Uint8Array): void {
    this.#check(id, dek);
  }

  /** A copy of the DEK held under `id`, or `undefined`. */
  get(id: number): Uint8Array | undefined {
    const held = this.#keys.get(id);
    return held === undefined ? undefined : new Uint8Array(held);
  }

  has(id: number): boolean {
    return this.#keys.has(id);
  }

  /** The held ids in ascending order. */
  ids(): number[] {
    return [...this.#keys.keys()].sort((a, b) => a - b);
  }

  get size(): number {
    return this.#keys.size;
  }

  /** Zero-fills every held key and empties the store. Idempotent. */
  close(): void {
    for (const key of this.#keys.values()) key.fill(0);
    this.#keys.clear();
  }

  /**
   * @internal Test-only: the held buffers themselves, not copies, so a test can prove that
   * {@link Keystore.close} zero-fills the memory the keys actually lived in. Not exported from
   * the package barrel; never call it outside tests.
   */
  _heldBuffersForTesting(): readonly Uint8Array[] {
    return [...this.#keys.values()];
  }

  /** Validates an add; true when it is an identical re-add (nothing to do). */
  #check(id: number, dek: Uint8Array): boolean {
    if (!Number.isInteger(id) || id < 1 || id > MAX_KEY_ID) {
      const why = id === 0 ? 'key id 0 is reserved (it means "no key")' : `key id must be an integer in 1..${MAX_KEY_ID}`;
      throw new KeyledgerError(ErrorCode.RESERVED_KEY_ID, why);
    }
    if (!(dek instanceof Uint8Array) || dek.length !== DEK_LENGTH) {
      const got = dek instanceof Uint8Array ? `${dek.length} bytes` : typeof dek;
      throw new KeyledgerError(ErrorCode.BAD_KEY_SIZE, `DEK ${id} must be ${DEK_LENGTH} bytes, got ${got}`);
    }
    const held = this.#keys.get(id);
    if (held === undefined) return false;
    // Constant time, so that how long a conflicting add takes says nothing about the held key.
    if (timingSafeEqual(held, dek)) return true;
    throw new KeyledgerError(ErrorCode.KEY_CONFLICT, `key id ${id} is already held with a different DEK`);
  }
}
