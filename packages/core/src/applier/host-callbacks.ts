import type { KekUnwrapper } from '../crypto/kek.js';
import { ErrorCode, KeyledgerError, hasCode } from '../errors.js';
import type { ApplierOptions } from './applier-options.js';

/**
 * Unwraps a DEK. A KEK that throws is ERR_KEK_MISMATCH (one code for "wrong or tampered"); one that
 * resolves to something other than bytes is ERR_HOST_CALLBACK, never a TypeError further on.
 */
export async function unwrapDek(kek: KekUnwrapper, dekId: number, wrapped: Uint8Array): Promise<Uint8Array> {
  let dek: unknown;
  try {
    dek = await kek.unwrap(wrapped);
  } catch (err) {
    if (hasCode(err, ErrorCode.KEK_MISMATCH)) throw err;
    throw new KeyledgerError(ErrorCode.KEK_MISMATCH, `the KEK cannot unwrap DEK ${dekId}`, { cause: err });
  }
  if (!(dek instanceof Uint8Array)) {
    throw new KeyledgerError(
      ErrorCode.HOST_CALLBACK,
      `the KEK's unwrap returned ${dek === null ? 'null' : typeof dek} for DEK ${dekId}, not a Uint8Array`,
    );
  }
  return dek;
}

/** A key's `created` time from the host's clock; a clock that throws or returns no valid Date is ERR_HOST_CALLBACK. */
export function createdAt(options: ApplierOptions): string {
  let now: unknown;
  try {
    now = options.now ? options.now() : new Date();
  } catch (err) {
    throw new KeyledgerError(ErrorCode.HOST_CALLBACK, 'the `now` clock threw', { cause: err });
  }
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
    throw new KeyledgerError(ErrorCode.HOST_CALLBACK, 'the `now` clock must return a valid Date');
  }
  return now.toISOString();
}
