import { ErrorCode, KeyledgerError } from '../errors.js';

/** Bytes in an AES-GCM nonce: node_id16 (2) ‖ local_epoch (2) ‖ write_count (8). */
export const NONCE_LENGTH = 12;
const U64_MAX = 0xffff_ffff_ffff_ffffn;

function checkUint(name: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw new KeyledgerError(ErrorCode.INVALID_ARGUMENT, `${name} must be an integer in 0..${max}, got ${String(v)}`);
  }
  return v;
}

/**
 * The deterministic nonce source of one writer in one epoch: `node_id16 (2 B BE) ‖ local_epoch
 * (2 B BE) ‖ write_count (8 B BE)`. Pure: it never touches a store. Two factories give disjoint
 * nonces as long as their (node_id16, local_epoch) pairs differ, which is what the writer
 * registry and the durable epoch bump guarantee (docs/design.md, section 'Encryptor').
 *
 * The count starts after `writeCount` (default 0, so the first nonce carries 1: the all-zero
 * count is never issued). When the 64-bit count would wrap, `next()` throws
 * `ERR_WRITE_COUNT_EXHAUSTED` and keeps throwing: resuming from the low range would reissue nonces
 * of this epoch.
 *
 * @example
 * ```ts
 * const nonces = new NonceFactory(0x0a01, 7);
 * nonces.next(); // 0a 01 00 07 00 00 00 00 00 00 00 01
 * ```
 */
export class NonceFactory {
  readonly nodeId16: number;
  readonly epoch: number;
  #count: bigint;
  #exhausted = false;

  constructor(nodeId16: number, epoch: number, options: { writeCount?: bigint } = {}) {
    this.nodeId16 = checkUint('nodeId16', nodeId16, 0xffff);
    this.epoch = checkUint('epoch', epoch, 0xffff);
    const start = options.writeCount ?? 0n;
    if (typeof start !== 'bigint' || start < 0n || start > U64_MAX) {
      throw new KeyledgerError(ErrorCode.INVALID_ARGUMENT, 'writeCount must be a bigint in 0..2^64-1');
    }
    this.#count = start;
  }

  /** The write count of the last nonce issued (0n before the first). */
  get writeCount(): bigint {
    return this.#count;
  }

  /** The next nonce; throws `ERR_WRITE_COUNT_EXHAUSTED` once the count has wrapped. */
  next(): Uint8Array {
    if (this.#exhausted || this.#count === U64_MAX) {
      this.#exhausted = true;
      throw new KeyledgerError(
        ErrorCode.WRITE_COUNT_EXHAUSTED,
        `the write count of node_id16 ${this.nodeId16} epoch ${this.epoch} is exhausted: reopen the Encryptor to bump the epoch`,
      );
    }
    this.#count += 1n;
    const nonce = new Uint8Array(NONCE_LENGTH);
    const view = new DataView(nonce.buffer);
    view.setUint16(0, this.nodeId16);
    view.setUint16(2, this.epoch);
    view.setBigUint64(4, this.#count);
    return nonce;
  }
}
