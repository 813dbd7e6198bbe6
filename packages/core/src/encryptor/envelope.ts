import { readU32BE } from '../bytes.js';
import { ErrorCode, KeyledgerError, invalidArgument } from '../errors.js';
import { NONCE_LENGTH } from './nonce-factory.js';

/**
 * The envelope every value is sealed in, byte-compatible with elastickv (docs/design.md,
 * section 'Envelope layout'):
 *
 * | offset | size | field                                   |
 * |--------|------|-----------------------------------------|
 * | 0      | 1    | version 0x01                            |
 * | 1      | 1    | flag (bit 0: Snappy-compressed plaintext) |
 * | 2      | 4    | key_id u32 BE                           |
 * | 6      | 12   | nonce                                   |
 * | 18     | n    | ciphertext                              |
 * | 18 + n | 16   | GCM tag                                 |
 */
export const ENVELOPE_VERSION = 0x01;
/** Flag bit 0: the ciphertext seals Snappy-compressed (block format) plaintext. */
export const FLAG_COMPRESSED = 0x01;
/** Bits of the flag byte this version understands; any other set bit is refused. */
const KNOWN_FLAGS = FLAG_COMPRESSED;
export const TAG_LENGTH = 16;
/** version ‖ flag ‖ key_id ‖ nonce. */
export const ENVELOPE_HEADER_LENGTH = 1 + 1 + 4 + NONCE_LENGTH;
/** Header and tag: what an envelope adds to the ciphertext's length. */
export const ENVELOPE_OVERHEAD = ENVELOPE_HEADER_LENGTH + TAG_LENGTH;
/** The raft AAD's purpose byte, `'R'`: a storage envelope fed to the raft layer fails authentication. */
const RAFT_PURPOSE_BYTE = 0x52;

/** A decoded envelope. `sealed` is ciphertext ‖ tag, as AES-GCM produced it. */
export interface Envelope {
  flag: number;
  keyId: number;
  nonce: Uint8Array;
  sealed: Uint8Array;
}

/** Serializes an envelope; the caller's bytes are copied, never aliased. */
export function encodeEnvelope(e: Envelope): Uint8Array {
  if (typeof e !== 'object' || e === null) throw invalidArgument('encodeEnvelope needs { flag, keyId, nonce, sealed }');
  if (!Number.isInteger(e.flag) || e.flag < 0 || e.flag > 0xff) throw invalidArgument('flag must be a byte');
  if ((e.flag & ~KNOWN_FLAGS) !== 0) {
    throw new KeyledgerError(ErrorCode.ENVELOPE_FLAGS, `flag 0x${e.flag.toString(16)} sets reserved bits`);
  }
  if (!Number.isInteger(e.keyId) || e.keyId < 1 || e.keyId > 0xffff_ffff)
    throw invalidArgument('keyId must be a u32 in 1..2^32-1 (0 is reserved)');
  if (!(e.nonce instanceof Uint8Array) || e.nonce.length !== NONCE_LENGTH) throw invalidArgument(`nonce must be ${NONCE_LENGTH} bytes`);
  if (!(e.sealed instanceof Uint8Array)) throw invalidArgument('sealed must be a Uint8Array');
  if (e.sealed.length < TAG_LENGTH) {
    throw new KeyledgerError(ErrorCode.ENVELOPE_SHORT, `sealed body is ${e.sealed.length} bytes, shorter than the ${TAG_LENGTH}-byte tag`);
  }
  const out = new Uint8Array(ENVELOPE_HEADER_LENGTH + e.sealed.length);
  out[0] = ENVELOPE_VERSION;
  out[1] = e.flag;
  new DataView(out.buffer).setUint32(2, e.keyId);
  out.set(e.nonce, 6);
  out.set(e.sealed, ENVELOPE_HEADER_LENGTH);
  return out;
}

/**
 * Parses an envelope without authenticating it (that needs the key and the AAD). Length is
 * checked before the version, as elastickv does: a short buffer is `ERR_ENVELOPE_SHORT` whatever
 * its first byte. Then `ERR_ENVELOPE_VERSION`, then `ERR_ENVELOPE_FLAGS` for reserved flag bits.
 * The result copies its bytes.
 */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  if (!(bytes instanceof Uint8Array)) throw invalidArgument('an envelope must be a Uint8Array');
  if (bytes.length < ENVELOPE_OVERHEAD) {
    throw new KeyledgerError(
      ErrorCode.ENVELOPE_SHORT,
      `envelope is ${bytes.length} bytes, shorter than the ${ENVELOPE_OVERHEAD}-byte header and tag`,
    );
  }
  if (bytes[0] !== ENVELOPE_VERSION) {
    throw new KeyledgerError(ErrorCode.ENVELOPE_VERSION, `envelope version 0x${bytes[0]!.toString(16).padStart(2, '0')} is not 0x01`);
  }
  const flag = bytes[1]!;
  if ((flag & ~KNOWN_FLAGS) !== 0) {
    throw new KeyledgerError(ErrorCode.ENVELOPE_FLAGS, `envelope flag 0x${flag.toString(16).padStart(2, '0')} sets reserved bits`);
  }
  return {
    flag,
    keyId: readU32BE(bytes, 2),
    nonce: bytes.slice(6, ENVELOPE_HEADER_LENGTH),
    sealed: bytes.slice(ENVELOPE_HEADER_LENGTH),
  };
}

/** Storage AAD: `0x01 ‖ flag ‖ key_id ‖ context`. The context (e.g. the record's key) binds a value to its place. */
export function storageAad(flag: number, keyId: number, context: Uint8Array): Uint8Array {
  const aad = new Uint8Array(6 + context.length);
  aad[0] = ENVELOPE_VERSION;
  aad[1] = flag;
  new DataView(aad.buffer).setUint32(2, keyId);
  aad.set(context, 6);
  return aad;
}

/** Raft AAD: `'R' ‖ 0x01 ‖ key_id`. Location-independent: the log entry's index identifies it. */
export function raftAad(keyId: number): Uint8Array {
  const aad = new Uint8Array(6);
  aad[0] = RAFT_PURPOSE_BYTE;
  aad[1] = ENVELOPE_VERSION;
  new DataView(aad.buffer).setUint32(2, keyId);
  return aad;
}
