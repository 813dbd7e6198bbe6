import { ErrorCode, KeyledgerError, invalidArgument } from '../errors.js';

/** Every entry body starts with this version byte. */
export const WIRE_VERSION = 0x01;

/** Entry opcodes (the first byte of a replicated entry). */
export const Opcode = {
  REGISTRATION: 0x03,
  BOOTSTRAP: 0x04,
  ROTATION: 0x05,
  /** Reserved encryption opcodes: applying one halts with ERR_UNKNOWN_OPCODE. */
  RESERVED_6: 0x06,
  RESERVED_7: 0x07,
} as const;

export const U16_MAX = 0xffff;
export const U32_MAX = 0xffff_ffff;
export const U64_MAX = 0xffff_ffff_ffff_ffffn;

/** The one constructor of ERR_FSM_WIRE_MALFORMED: bytes that do not decode. */
export function malformed(what: string): KeyledgerError {
  return new KeyledgerError(ErrorCode.FSM_WIRE_MALFORMED, what);
}

// The check* helpers guard the encoders: a value out of range there is the caller's argument,
// never log damage, so they raise ERR_INVALID_ARGUMENT.

function checkUint(name: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw invalidArgument(`${name} must be an integer in 0..${max}`);
  }
  return v;
}

export function checkU16(name: string, v: unknown): number {
  return checkUint(name, v, U16_MAX);
}

export function checkU32(name: string, v: unknown): number {
  return checkUint(name, v, U32_MAX);
}

export function checkU64(name: string, v: unknown): bigint {
  if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) {
    throw invalidArgument(`${name} must be a bigint in 0..2^64-1`);
  }
  return v;
}

export function checkBytes(name: string, v: unknown): Uint8Array {
  if (!(v instanceof Uint8Array)) throw invalidArgument(`${name} must be a Uint8Array`);
  return v;
}

/**
 * Big-endian reader over an entry. Every read is bounds-checked first, so truncated input
 * fails with ERR_FSM_WIRE_MALFORMED before anything is allocated from a length prefix.
 */
export class WireReader {
  readonly #view: DataView;
  readonly #bytes: Uint8Array;
  #pos: number;

  constructor(bytes: Uint8Array, start = 0) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#pos = start;
  }

  /**
   * A reader past the opcode and version byte of `entry`, which must start with `opcode`; `name`
   * ("rotation") names the entry kind in the error when it does not.
   */
  static entry(entry: Uint8Array, opcode: number, name: string): WireReader {
    if (!(entry instanceof Uint8Array) || entry[0] !== opcode) {
      throw malformed(`not a ${name} entry (opcode 0x${opcode.toString(16).padStart(2, '0')})`);
    }
    const r = new WireReader(entry, 1);
    r.version();
    return r;
  }

  get remaining(): number {
    return this.#bytes.length - this.#pos;
  }

  /** Claims the next `n` bytes (checked to be there) and returns where they start. */
  #take(n: number, what: string): number {
    if (this.remaining < n) throw malformed(`truncated: ${what} needs ${n} bytes, ${this.remaining} left`);
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  u8(what: string): number {
    return this.#view.getUint8(this.#take(1, what));
  }

  u16(what: string): number {
    return this.#view.getUint16(this.#take(2, what));
  }

  u32(what: string): number {
    return this.#view.getUint32(this.#take(4, what));
  }

  u64(what: string): bigint {
    return this.#view.getBigUint64(this.#take(8, what));
  }

  /**
   * A plain Uint8Array copy, so a decoded entry never aliases the caller's buffer. Not
   * `this.#bytes.slice`: on a Node Buffer that returns a view, and a wrapped DEK kept in the
   * state would change when the host reuses its read buffer.
   */
  bytes(n: number, what: string): Uint8Array {
    const at = this.#take(n, what);
    const out = new Uint8Array(n);
    out.set(this.#bytes.subarray(at, at + n));
    return out;
  }

  version(): void {
    const v = this.u8('version');
    if (v !== WIRE_VERSION) {
      throw new KeyledgerError(
        ErrorCode.FSM_WIRE_VERSION,
        `unsupported entry version 0x${v.toString(16).padStart(2, '0')} (expected 0x01)`,
      );
    }
  }

  end(): void {
    if (this.remaining !== 0) throw malformed(`${this.remaining} trailing bytes`);
  }
}

/** Big-endian writer with an exact, precomputed size. */
export class WireWriter {
  readonly bytes: Uint8Array;
  readonly #view: DataView;
  #pos = 0;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.#view = new DataView(this.bytes.buffer);
  }

  /** A writer for an entry of `size` bytes in all, its opcode and version byte already written. */
  static entry(opcode: number, size: number): WireWriter {
    return new WireWriter(size).u8(opcode).u8(WIRE_VERSION);
  }

  // Each write lands at the cursor and moves it on: the size was computed up front, so a write
  // past the end is a codec bug, and DataView throws a RangeError for it.
  u8(v: number): this {
    this.#view.setUint8(this.#pos, v);
    this.#pos += 1;
    return this;
  }

  u16(v: number): this {
    this.#view.setUint16(this.#pos, v);
    this.#pos += 2;
    return this;
  }

  u32(v: number): this {
    this.#view.setUint32(this.#pos, v);
    this.#pos += 4;
    return this;
  }

  u64(v: bigint): this {
    this.#view.setBigUint64(this.#pos, v);
    this.#pos += 8;
    return this;
  }

  raw(b: Uint8Array): this {
    this.bytes.set(b, this.#pos);
    this.#pos += b.length;
    return this;
  }
}
