import { ErrorCode, KeyledgerError } from '../errors.js';

// Reading and writing the fields of the state's JSON document (encryption-state.ts): the checks
// every field goes through on the way in, the encodings on the way out.

export const U16_MAX = 0xffff;
export const U32_MAX = 0xffff_ffff;
export const U64_MAX = 0xffff_ffff_ffff_ffffn;

export function malformed(message: string): KeyledgerError {
  return new KeyledgerError(ErrorCode.STATE_MALFORMED, `encryption state: ${message}`);
}

export function isU(v: unknown, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
}

export function u64ToJson(v: bigint): number | string {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

export function base64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/** A JSON object; with `allowed`, one that has no other fields. */
export function readObject(v: unknown, field: string, allowed?: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed(`${field} must be a JSON object`);
  const o = v as Record<string, unknown>;
  if (allowed === undefined) return o;
  for (const name of Object.keys(o)) {
    // An unknown field would be silently dropped on the next write; refusing it keeps a newer
    // writer's data from being lost by an older reader.
    if (!allowed.includes(name)) throw malformed(`${field} has unknown field ${JSON.stringify(name.slice(0, 64))}`);
  }
  return o;
}

export function readU64(v: unknown, field: string): bigint {
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && v >= 0) return BigInt(v);
    throw malformed(`${field} must be a non-negative integer no larger than 2^53-1, or a decimal string`);
  }
  if (typeof v === 'string') {
    if (/^(0|[1-9][0-9]{0,19})$/.test(v)) {
      const n = BigInt(v);
      if (n <= U64_MAX) return n;
    }
    throw malformed(`${field} must be a canonical decimal string of a u64`);
  }
  throw malformed(`${field} must be a number or a decimal string`);
}

export function readUint(v: unknown, field: string, max: number, what: string): number {
  if (!isU(v, max)) throw malformed(`${field} must be a ${what}`);
  return v;
}

const BASE64_TEXT = /^[A-Za-z0-9+/]+={0,2}$/;

/** The 6-bit value of a standard base64 digit (the caller has checked that it is one). */
function base64Digit(c: number): number {
  if (c >= 0x61) return c - 0x61 + 26; // a-z
  if (c >= 0x41) return c - 0x41; // A-Z
  if (c >= 0x30) return c - 0x30 + 52; // 0-9
  return c === 0x2b ? 62 : 63; // + /
}

/**
 * Standard base64 with padding, canonical, so that decoding and re-encoding gives the same text:
 * the bits of the last digit that padding leaves unused must be zero (2 of them before one `=`,
 * 4 before two), which is what a re-encode would compare, without encoding again.
 */
export function readWrapped(v: unknown, id: number): Uint8Array {
  if (typeof v !== 'string' || v.length % 4 !== 0 || !BASE64_TEXT.test(v)) throw notBase64(id);
  const pad = v.endsWith('==') ? 2 : v.endsWith('=') ? 1 : 0;
  const unused = pad === 2 ? 0b1111 : pad === 1 ? 0b11 : 0;
  if ((base64Digit(v.charCodeAt(v.length - pad - 1)) & unused) !== 0) throw notBase64(id);
  return new Uint8Array(Buffer.from(v, 'base64'));
}

function notBase64(id: number): KeyledgerError {
  return malformed(`keys[${id}].wrapped must be non-empty standard base64`);
}

export function readKeyId(name: string): number {
  // Canonical decimal only: "07" and "7" would otherwise name one key twice.
  if (/^[1-9][0-9]{0,9}$/.test(name)) {
    const id = Number(name);
    if (id <= U32_MAX) return id;
  }
  throw malformed(`keys has id ${JSON.stringify(name.slice(0, 32))}: ids must be canonical decimal non-zero u32`);
}
