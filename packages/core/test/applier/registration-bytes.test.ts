import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isWellFormedRegistration, registrationKey, registrationRowId } from '../../src/applier/apply-registration.js';
import { rowId } from '../../src/applier/apply-txn.js';
import { decodeRegistration, encodeRegistration, registryKey, type Registration } from '../../src/index.js';

// The applier reads registrations straight from their bytes; these pin its helpers to the codecs,
// so a layout change in codec/ cannot silently diverge from the applier's fast path.
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
      }),
    );
  });

  it('registrationRowId › equals rowId of the codec key, and differs between slots', () => {
    fc.assert(
      fc.property(registration, registration, (a, b) => {
        const ia = registrationRowId(encodeRegistration(a));
        expect(ia).toBe(rowId(registryKey(a.dekId, a.fullNodeId)));
        const sameSlot = a.dekId === b.dekId && (a.fullNodeId & 0xffffn) === (b.fullNodeId & 0xffffn);
        expect(ia === registrationRowId(encodeRegistration(b))).toBe(sameSlot);
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

  it('rowId › other keys are hex strings, never equal to a registry row id', () => {
    expect(rowId(new Uint8Array([0x21, 0x00, 0xff]))).toBe('2100ff');
    expect(typeof rowId(registryKey(0, 0n))).toBe('number');
  });
});
