import snappy from 'snappyjs';
import { ErrorCode, KeyledgerError } from '../errors.js';

/**
 * Snappy block format (Go's `snappy.Encode`), which elastickv uses for flag bit 0
 * (docs/design.md, section 'Envelope layout'). `snappyjs` is a pure-JS implementation: no native build.
 */
export function compressBlock(plain: Uint8Array): Uint8Array {
  return snappy.compress(plain);
}

/**
 * Decompresses an authenticated payload. Bytes that do not decode are `ERR_INTEGRITY`: they
 * passed the tag, so only the sealer could have made them, and the reader must not guess.
 * `maxLength` bounds the allocation the stream's length prefix may ask for.
 */
export function decompressBlock(compressed: Uint8Array, maxLength: number): Uint8Array {
  try {
    return snappy.uncompress(compressed, maxLength);
  } catch (err) {
    throw new KeyledgerError(ErrorCode.INTEGRITY, 'the compressed payload is not a valid Snappy block', { cause: err });
  }
}
