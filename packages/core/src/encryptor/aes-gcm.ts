import { createCipheriv, createDecipheriv, type KeyObject } from 'node:crypto';
import { ErrorCode, KeyledgerError } from '../errors.js';
import { TAG_LENGTH } from './envelope.js';

/** AES-256-GCM seal: ciphertext ‖ 16-byte tag. The nonce's uniqueness is the caller's whole duty. */
export function sealGcm(key: KeyObject, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LENGTH });
  cipher.setAAD(aad);
  const head = cipher.update(plaintext);
  const tail = cipher.final();
  const out = new Uint8Array(head.length + tail.length + TAG_LENGTH);
  out.set(head, 0);
  out.set(tail, head.length);
  out.set(cipher.getAuthTag(), head.length + tail.length);
  return out;
}

/** AES-256-GCM open of ciphertext ‖ tag; a tag that does not verify is `ERR_INTEGRITY`. */
export function openGcm(key: KeyObject, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
  const split = sealed.length - TAG_LENGTH;
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LENGTH });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(split));
  const head = decipher.update(sealed.subarray(0, split));
  let tail: Buffer;
  try {
    tail = decipher.final();
  } catch {
    head.fill(0);
    throw new KeyledgerError(
      ErrorCode.INTEGRITY,
      'authentication failed: the envelope was altered, or its context is not the one it was sealed with',
    );
  }
  if (tail.length === 0) return new Uint8Array(head.buffer, head.byteOffset, head.byteLength);
  const out = new Uint8Array(head.length + tail.length);
  out.set(head, 0);
  out.set(tail, head.length);
  return out;
}
