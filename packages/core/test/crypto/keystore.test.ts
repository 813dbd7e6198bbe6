import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Keystore } from '../../src/crypto/keystore.js';
import { ErrorCode, hasCode, reasonCode, type KeyledgerErrorCode } from '../../src/errors.js';

function dek(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

function throwsWith(fn: () => unknown, code: KeyledgerErrorCode): Error {
  const err = caught(fn);
  expect(hasCode(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
  return err as Error;
}

describe('Keystore', () => {
  it('holds a DEK by id', () => {
    const ks = new Keystore();
    const k = dek();
    ks.add(7, k);
    expect(ks.get(7)).toEqual(k);
    expect(ks.has(7)).toBe(true);
    expect(ks.has(8)).toBe(false);
    expect(ks.get(8)).toBeUndefined();
    expect(ks.size).toBe(1);
  });

  it('accepts the smallest and largest ids', () => {
    const ks = new Keystore();
    ks.add(1, dek());
    ks.add(0xffff_ffff, dek());
    expect(ks.ids()).toEqual([1, 0xffff_ffff]);
  });

  it('refuses id 0 with ERR_RESERVED_KEY_ID', () => {
    const err = throwsWith(() => new Keystore().add(0, dek()), ErrorCode.RESERVED_KEY_ID);
    expect(err.message).toContain('reserved');
  });

  // Decision: every id outside 1..0xFFFFFFFF is ERR_RESERVED_KEY_ID, the keystore's id code.
  it.each([-1, 1.5, 0x1_0000_0000, Number.NaN, Number.POSITIVE_INFINITY, -0.5])('refuses id %s with ERR_RESERVED_KEY_ID', (id) => {
    throwsWith(() => new Keystore().add(id, dek()), ErrorCode.RESERVED_KEY_ID);
  });

  it.each([0, 1, 16, 31, 33, 60])('refuses a %i-byte DEK with ERR_BAD_KEY_SIZE', (size) => {
    throwsWith(() => new Keystore().add(1, new Uint8Array(size)), ErrorCode.BAD_KEY_SIZE);
  });

  it('refuses a DEK that is not a Uint8Array with ERR_BAD_KEY_SIZE', () => {
    throwsWith(() => new Keystore().add(1, 'x'.repeat(32) as unknown as Uint8Array), ErrorCode.BAD_KEY_SIZE);
  });

  it('refuses the same id with other bytes with ERR_KEY_CONFLICT and keeps the first DEK', () => {
    const ks = new Keystore();
    const first = dek();
    const other = dek();
    ks.add(3, first);
    const err = throwsWith(() => ks.add(3, other), ErrorCode.KEY_CONFLICT);
    expect(ks.get(3)).toEqual(first);
    for (const k of [first, other]) {
      expect(err.message).not.toContain(Buffer.from(k).toString('hex'));
      expect(err.message).not.toContain(Buffer.from(k).toString('base64'));
    }
  });

  it('refuses a DEK that differs in one bit only', () => {
    const ks = new Keystore();
    const k = dek();
    ks.add(3, k);
    const flipped = new Uint8Array(k);
    flipped[31]! ^= 0x80;
    throwsWith(() => ks.add(3, flipped), ErrorCode.KEY_CONFLICT);
  });

  it('treats an identical re-add, from another buffer, as a no-op', () => {
    const ks = new Keystore();
    const k = dek();
    ks.add(3, k);
    const held = ks._heldBuffersForTesting()[0];
    ks.add(3, new Uint8Array(k));
    expect(ks.size).toBe(1);
    expect(ks._heldBuffersForTesting()[0]).toBe(held);
  });

  it('copies a DEK in: changing the caller buffer after add does not change the held key', () => {
    const ks = new Keystore();
    const k = dek();
    const original = new Uint8Array(k);
    ks.add(3, k);
    k.fill(0);
    expect(ks.get(3)).toEqual(original);
  });

  it('copies a DEK out: changing what get returned does not change the held key', () => {
    const ks = new Keystore();
    const k = dek();
    ks.add(3, k);
    const out = ks.get(3)!;
    out.fill(0);
    expect(ks.get(3)).toEqual(k);
    expect(ks.get(3)).not.toBe(ks.get(3));
  });

  it('lists ids in ascending numeric order', () => {
    const ks = new Keystore();
    for (const id of [10, 9, 0xffff_ffff, 100, 1]) ks.add(id, dek());
    expect(ks.ids()).toEqual([1, 9, 10, 100, 0xffff_ffff]);
    expect(ks.size).toBe(5);
  });

  it('close zero-fills every held buffer and empties the store', () => {
    const ks = new Keystore();
    ks.add(1, dek());
    ks.add(2, dek());
    // The held buffers themselves (not copies), so the assertion is about the real memory.
    const held = ks._heldBuffersForTesting();
    expect(held).toHaveLength(2);
    expect(held.every((b) => b.some((x) => x !== 0))).toBe(true);
    ks.close();
    expect(held.every((b) => b.every((x) => x === 0))).toBe(true);
    expect(ks.size).toBe(0);
    expect(ks.ids()).toEqual([]);
    expect(ks.get(1)).toBeUndefined();
    ks.close();
  });

  it('may be refilled after close', () => {
    const ks = new Keystore();
    ks.add(1, dek());
    ks.close();
    const k = dek();
    ks.add(1, k);
    expect(ks.get(1)).toEqual(k);
  });

  describe('assertCanAdd', () => {
    it('passes for an add that would succeed, without adding', () => {
      const ks = new Keystore();
      ks.assertCanAdd(5, dek());
      expect(ks.size).toBe(0);
      expect(ks.has(5)).toBe(false);
    });

    it('passes for an identical re-add', () => {
      const ks = new Keystore();
      const k = dek();
      ks.add(5, k);
      ks.assertCanAdd(5, new Uint8Array(k));
      expect(ks.size).toBe(1);
    });

    it.each([
      ['id 0', 0, 32, ErrorCode.RESERVED_KEY_ID],
      ['id 2^32', 0x1_0000_0000, 32, ErrorCode.RESERVED_KEY_ID],
      ['a 31-byte DEK', 9, 31, ErrorCode.BAD_KEY_SIZE],
      ['a conflicting DEK', 5, 32, ErrorCode.KEY_CONFLICT],
    ] as const)('throws what add throws for %s, changing nothing', (_what, id, size, code) => {
      const ks = new Keystore();
      const k = dek();
      ks.add(5, k);
      const d = new Uint8Array(randomBytes(size));
      throwsWith(() => ks.assertCanAdd(id, d), code);
      throwsWith(() => ks.add(id, d), code);
      expect(ks.ids()).toEqual([5]);
      expect(ks.get(5)).toEqual(k);
    });

    it('agrees with add on every sequence of operations (property)', () => {
      const op = fc.record({
        id: fc.oneof(fc.constantFrom(0, 1, 2, 3, 0xffff_ffff, 0x1_0000_0000, -1, 1.5)),
        size: fc.constantFrom(31, 32, 32, 32, 33),
        fill: fc.integer({ min: 0, max: 2 }),
      });
      fc.assert(
        fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
          const ks = new Keystore();
          for (const { id, size, fill } of ops) {
            const d = new Uint8Array(size).fill(fill);
            const before = ks.ids();
            const checked = caught(() => ks.assertCanAdd(id, d));
            expect(ks.ids()).toEqual(before);
            const added = caught(() => ks.add(id, d));
            expect(reasonCode(checked)).toBe(reasonCode(added));
            if (added !== undefined) expect(ks.ids()).toEqual(before);
          }
        }),
      );
    });
  });
});
