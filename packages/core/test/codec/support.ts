import fc from 'fast-check';
import { expect } from 'vitest';
import {
  RotationSubtag,
  Purpose,
  isKeyledgerError,
  type Bootstrap,
  type KeyledgerError,
  type KeyledgerErrorCode,
  type Registration,
  type Rotation,
} from '../../src/index.js';

/** The error `fn` throws, or undefined when it returns. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

/** Asserts that `fn` throws a keyledger error with exactly `code`, and returns it. */
export function expectCode(fn: () => unknown, code: KeyledgerErrorCode): KeyledgerError {
  const err = thrown(fn);
  expect(isKeyledgerError(err), `expected ${code}, got ${String(err)}`).toBe(true);
  expect((err as KeyledgerError).code).toBe(code);
  return err as KeyledgerError;
}

/**
 * Runs a decoder on hostile input. It may return or throw a keyledger error; anything else
 * (a RangeError from a DataView, a TypeError) is rethrown so the property fails.
 */
export function decodeOrUndefined<T>(decode: (b: Uint8Array) => T, input: Uint8Array): T | undefined {
  try {
    return decode(input);
  } catch (err) {
    if (!isKeyledgerError(err)) throw err;
    return undefined;
  }
}

export function concat(...parts: (Uint8Array | readonly number[])[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function u32be(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

/** A copy of `b` with bit `bit` of byte `at` inverted. */
export function flipBit(b: Uint8Array, at: number, bit: number): Uint8Array {
  const out = new Uint8Array(b);
  out[at] = out[at]! ^ (1 << bit);
  return out;
}

/** `b` copied into the middle of a larger buffer: catches decoders that ignore `byteOffset`. */
export function atOffset(b: Uint8Array, offset = 7): Uint8Array {
  const backing = new Uint8Array(offset + b.length + 5).fill(0xee);
  backing.set(b, offset);
  return backing.subarray(offset, offset + b.length);
}

// Each arbitrary mixes uniform values with the edges where width and sign mistakes show.
export const u16 = fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.constantFrom(0, 1, 0x7fff, 0x8000, 0xffff));
export const u32 = fc.oneof(fc.integer({ min: 0, max: 0xffff_ffff }), fc.constantFrom(0, 1, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff));
export const u64 = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  fc.constantFrom(0n, 2n ** 53n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n),
);

export const registration: fc.Arbitrary<Registration> = fc.record({ dekId: u32, fullNodeId: u64, localEpoch: u16 });

export const bootstrap: fc.Arbitrary<Bootstrap> = fc.record({
  storageDekId: u32,
  storageWrapped: fc.uint8Array({ maxLength: 200 }),
  raftDekId: u32,
  raftWrapped: fc.uint8Array({ maxLength: 200 }),
  registrations: fc.array(registration, { maxLength: 50 }),
});

export const rotation: fc.Arbitrary<Rotation> = fc.record({
  subtag: fc.constantFrom(RotationSubtag.ROTATE_DEK, RotationSubtag.ENABLE_STORAGE_ENVELOPE, RotationSubtag.ENABLE_RAFT_ENVELOPE),
  dekId: u32,
  purpose: fc.constantFrom(Purpose.STORAGE, Purpose.RAFT),
  wrapped: fc.uint8Array({ maxLength: 200 }),
  proposer: registration,
});

/** A valid encoding with one bit flipped somewhere in it. */
export function withFlippedBit(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return valid.chain((b) =>
    fc.tuple(fc.integer({ min: 0, max: b.length - 1 }), fc.integer({ min: 0, max: 7 })).map(([at, bit]) => flipBit(b, at, bit)),
  );
}

/** A strict prefix of a valid encoding. */
export function truncated(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return valid.chain((b) => fc.integer({ min: 0, max: b.length - 1 }).map((n) => b.slice(0, n)));
}

/** Bytes that start with `head`, so random input gets past the opcode and version checks. */
export function startingWith(head: readonly number[], maxLength = 120): fc.Arbitrary<Uint8Array> {
  return fc.uint8Array({ maxLength }).map((tail) => concat(head, tail));
}
