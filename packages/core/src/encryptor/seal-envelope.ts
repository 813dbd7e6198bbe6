import type { KeyObject } from 'node:crypto';
import { ErrorCode, KeyledgerError, invalidArgument } from '../errors.js';
import type { KeyPurpose } from '../state/encryption-state.js';
import { openGcm, sealGcm } from './aes-gcm.js';
import { FLAG_COMPRESSED, decodeEnvelope, encodeEnvelope, raftAad, storageAad } from './envelope.js';
import { compressBlock, decompressBlock } from './snappy.js';

/**
 * The most a Snappy block can expand: a 3-byte copy yields at most 64 bytes. Bounds what a
 * (sealed, hence trusted-origin) length prefix may make the decoder allocate.
 */
const SNAPPY_MAX_RATIO = 22;

/**
 * The context an envelope of `purpose` may be sealed or opened with: bytes, and none for raft —
 * the raft AAD is fixed, so accepting a context would promise a binding that does not exist.
 * Throws ERR_INVALID_ARGUMENT.
 */
export function checkContext(purpose: KeyPurpose, context: unknown): asserts context is Uint8Array {
  if (!(context instanceof Uint8Array)) throw invalidArgument('context must be a Uint8Array');
  if (purpose === 'raft' && context.length > 0) throw invalidArgument('a raft envelope takes no context (its AAD is fixed)');
}

/** AES-256-GCM over the envelope layout: the AAD of `purpose`, the flag, the key id. */
export function sealEnvelope(
  key: KeyObject,
  keyId: number,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  purpose: KeyPurpose,
  context: Uint8Array,
  compress: boolean,
): Uint8Array {
  let flag = 0;
  let body = plaintext;
  if (compress) {
    const packed = compressBlock(plaintext);
    // Compressed only when it pays: incompressible values keep their length and skip the decoder.
    if (packed.length < plaintext.length) {
      flag = FLAG_COMPRESSED;
      body = packed;
    }
  }
  const aad = purpose === 'raft' ? raftAad(keyId) : storageAad(flag, keyId, context);
  return encodeEnvelope({ flag, keyId, nonce, sealed: sealGcm(key, nonce, body, aad) });
}

/** Decodes, authenticates and (flag bit 0) decompresses an envelope. */
export function openEnvelope(
  bytes: Uint8Array,
  purpose: KeyPurpose,
  context: Uint8Array,
  keyOf: (id: number) => KeyObject | undefined,
): Uint8Array {
  const env = decodeEnvelope(bytes);
  // The raft AAD does not cover the flag byte, so a raft envelope must carry none: a flipped
  // bit there would otherwise pass authentication.
  if (purpose === 'raft' && env.flag !== 0) {
    throw new KeyledgerError(ErrorCode.ENVELOPE_FLAGS, 'a raft envelope carries no flags');
  }
  const key = keyOf(env.keyId);
  if (key === undefined) throw new KeyledgerError(ErrorCode.UNKNOWN_KEY_ID, `key id ${env.keyId} is not in the keystore`);
  const aad = purpose === 'raft' ? raftAad(env.keyId) : storageAad(env.flag, env.keyId, context);
  const plain = openGcm(key, env.nonce, env.sealed, aad);
  if ((env.flag & FLAG_COMPRESSED) === 0) return plain;
  return decompressBlock(plain, plain.length * SNAPPY_MAX_RATIO + 64);
}
