import type { KekUnwrapper } from '../crypto/kek.js';
import { ErrorCode, KeyledgerError, hasCode } from '../errors.js';

/** Unwraps a DEK; any KEK failure is ERR_KEK_MISMATCH so the host sees one code for "wrong or tampered". */
export async function unwrapDek(kek: KekUnwrapper, dekId: number, wrapped: Uint8Array): Promise<Uint8Array> {
  try {
    return await kek.unwrap(wrapped);
  } catch (err) {
    if (hasCode(err, ErrorCode.KEK_MISMATCH)) throw err;
    throw new KeyledgerError(ErrorCode.KEK_MISMATCH, `the KEK cannot unwrap DEK ${dekId}`, { cause: err });
  }
}
