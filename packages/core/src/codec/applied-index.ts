import { ErrorCode, KeyledgerError } from '../errors.js';
import { checkU64 } from './wire.js';

/**
 * Applied-index record, exactly 8 bytes under the ASCII key `!encryption|applied`:
 *
 * | offset | size | field                 |
 * |--------|------|-----------------------|
 * | 0      | 8    | applied_index u64 BE  |
 *
 * The highest raft index whose encryption entry this replica applied. The applier puts it in the
 * same atomic write as the effects of every entry that carries an index, so a re-delivered entry
 * (Raft replays from the host's own applied index after a crash) is recognised without rewriting
 * the JSON state record on every registration. See docs/design.md, 'Applied-index record'.
 */
export const APPLIED_KEY: Uint8Array = new TextEncoder().encode('!encryption|applied');
export const APPLIED_INDEX_LENGTH = 8;

/** Encodes into `out` (8 bytes, a fresh array by default). */
export function encodeAppliedIndex(index: bigint, out: Uint8Array = new Uint8Array(APPLIED_INDEX_LENGTH)): Uint8Array {
  const v = checkU64('applied_index', index);
  // Two 32-bit halves written byte by byte: no DataView per record.
  const hi = Number(v >> 32n);
  const lo = Number(v & 0xffffffffn);
  for (let i = 0; i < 4; i++) {
    out[3 - i] = (hi >>> (8 * i)) & 0xff;
    out[7 - i] = (lo >>> (8 * i)) & 0xff;
  }
  return out;
}

/** A record of any other length is damage: reading it as 0 would let every entry apply again. */
export function decodeAppliedIndex(value: Uint8Array): bigint {
  if (!(value instanceof Uint8Array) || value.length !== APPLIED_INDEX_LENGTH) {
    const len = value instanceof Uint8Array ? value.length : typeof value;
    throw new KeyledgerError(
      ErrorCode.STATE_MALFORMED,
      `applied-index record must be 8 bytes, got ${len}: restore the store from a replica`,
    );
  }
  return new DataView(value.buffer, value.byteOffset, value.byteLength).getBigUint64(0);
}
