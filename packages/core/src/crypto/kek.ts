import { randomBytes } from 'node:crypto';

/**
 * A key-encryption key (KEK): wraps data-encryption keys (DEKs) so that only wrapped copies ever
 * reach the replicated log and the stored encryption state.
 *
 * Implementations MUST:
 * - return from `unwrap` exactly the 32 bytes given to the `wrap` that produced `wrapped`;
 * - reject any `wrapped` they did not produce (tampered bytes, another KEK) with
 *   `ERR_KEK_MISMATCH`, never return wrong bytes: the applier would install a DEK that no other
 *   replica holds;
 * - keep key material out of `name` and out of every error message.
 *
 * @example
 * ```ts
 * const kek: Kek = await FileKek.open('/etc/keyledger/kek');
 * const wrapped = await kek.wrap(dek);
 * ```
 */
export interface Kek {
  /** Identifies the KEK's source for logs and errors, for instance `file:/etc/keyledger/kek`. Never secret. */
  readonly name: string;
  /** Wraps a 32-byte DEK. The result is ciphertext and may be stored and replicated. */
  wrap(dek: Uint8Array): Promise<Uint8Array>;
  /** Recovers the 32-byte DEK from `wrapped`; rejects with `ERR_KEK_MISMATCH` when it cannot. */
  unwrap(wrapped: Uint8Array): Promise<Uint8Array>;
}

/**
 * The part of a {@link Kek} the applier needs: it only ever unwraps DEKs that arrive in
 * bootstrap and rotation entries or in the stored state, so a host may hand it an unwrap-only
 * object (a KMS client, for instance).
 */
export type KekUnwrapper = Pick<Kek, 'unwrap'>;

/**
 * Draws a fresh random 32-byte DEK and returns it wrapped by `kek`, for a bootstrap or rotation
 * entry; the plain bytes are zero-filled before this returns, so only the wrapped copy leaves.
 */
export async function wrapFreshDek(kek: Pick<Kek, 'wrap'>): Promise<Uint8Array> {
  const dek = new Uint8Array(randomBytes(32));
  try {
    return await kek.wrap(dek);
  } finally {
    dek.fill(0);
  }
}
