import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isWellFormedRegistration,
  registrationEpoch,
  registrationKey,
  registrationOf,
  registrationSlot,
} from '../../src/codec/registration.js';
import { registrySlot } from '../../src/codec/registry-key.js';
import { registryRowAt, rowFirstEpoch, rowLastEpoch, rowOwnedBy } from '../../src/codec/registry-row.js';
import { decodeRegistration, decodeRegistryRow, encodeRegistration, registryKey, type Registration } from '../../src/index.js';

// The applier reads registrations and rows straight from their bytes; these pin the codecs'
// byte-level accessors to their decoders, so a layout change cannot silently diverge.
const registration = fc.record({
  dekId: fc.integer({ min: 0, max: 0xffff_ffff }),
  fullNodeId: fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn }),
  localEpoch: fc.integer({ min: 0, max: 0xffff }),
}) as fc.Arbitrary<Registration>;

describe('registration bytes', () => {
  it('registrationKey › equals the codec key of (dek_id, full_node_id)', () => {
    fc.assert(
      fc.property(registration, (r) => {
        expect(registrationKey(encodeRegistration(r))).toEqual(registryKey(r.dekId, r.fullNodeId));
        // Written into a buffer that held another key: every byte is the key's.
        const into = new Uint8Array(27).fill(0xa5);
        expect(registrationKey(encodeRegistration(r), into)).toBe(into);
        expect(into).toEqual(registryKey(r.dekId, r.fullNodeId));
      }),
    );
  });

  it('registrationSlot › equals registrySlot of the codec key, and differs between slots', () => {
    fc.assert(
      fc.property(registration, registration, (a, b) => {
        const ia = registrationSlot(encodeRegistration(a));
        expect(ia).toBe(registrySlot(registryKey(a.dekId, a.fullNodeId)));
        const sameSlot = a.dekId === b.dekId && (a.fullNodeId & 0xffffn) === (b.fullNodeId & 0xffffn);
        expect(ia === registrationSlot(encodeRegistration(b))).toBe(sameSlot);
      }),
    );
  });

  it('isWellFormedRegistration › true exactly when decodeRegistration accepts the bytes', () => {
    const bytes = fc.oneof(
      registration.map(encodeRegistration),
      fc.uint8Array({ minLength: 0, maxLength: 20 }),
      registration
        .chain((r) => fc.tuple(fc.constant(encodeRegistration(r)), fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 255 })))
        .map(([e, i, v]) => {
          const out = new Uint8Array(e);
          out[i] = v;
          return out;
        }),
    );
    fc.assert(
      fc.property(bytes, (b) => {
        let decodes = true;
        try {
          decodeRegistration(b);
        } catch {
          decodes = false;
        }
        expect(isWellFormedRegistration(b)).toBe(decodes);
      }),
    );
    expect(isWellFormedRegistration(Array.from(encodeRegistration({ dekId: 1, fullNodeId: 1n, localEpoch: 1 })))).toBe(false);
  });

  it('registrationOf / registrationEpoch › equal the decoder', () => {
    fc.assert(
      fc.property(registration, (r) => {
        const e = encodeRegistration(r);
        expect(registrationOf(e)).toEqual(decodeRegistration(e));
        expect(registrationEpoch(e)).toBe(r.localEpoch);
      }),
    );
  });

  it('registryRowAt / rowOwnedBy / rowFirstEpoch / rowLastEpoch › equal the row codec', () => {
    const epoch = fc.integer({ min: 0, max: 0xffff });
    fc.assert(
      fc.property(registration, registration, epoch, epoch, (a, b, first, last) => {
        const e = encodeRegistration(a);
        const row = registryRowAt(e, 6, first, last);
        expect(decodeRegistryRow(row)).toEqual({ fullNodeId: a.fullNodeId, firstSeenEpoch: first, lastSeenEpoch: last });
        expect(rowFirstEpoch(row)).toBe(first);
        expect(rowLastEpoch(row)).toBe(last);
        expect(rowOwnedBy(row, e, 6)).toBe(true);
        expect(rowOwnedBy(row, encodeRegistration(b), 6)).toBe(a.fullNodeId === b.fullNodeId);
      }),
    );
  });
});
