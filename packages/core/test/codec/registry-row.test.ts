import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, REGISTRY_ROW_LENGTH, decodeRegistryRow, encodeRegistryRow, type RegistryRow } from '../../src/index.js';
import { atOffset, decodeOrUndefined, expectCode, u16, u64 } from './support.js';

const ROW: RegistryRow = { fullNodeId: 0x1122334455667788n, firstSeenEpoch: 0xabcd, lastSeenEpoch: 0xfedc };

// biome-ignore format: a byte-layout pin, one wire field per line
const PIN = new Uint8Array([
  0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, // full_node_id 0x1122334455667788
  0xab, 0xcd,                                     // first_seen_local_epoch 0xABCD
  0xfe, 0xdc,                                     // last_seen_local_epoch 0xFEDC
]);

const row: fc.Arbitrary<RegistryRow> = fc.record({ fullNodeId: u64, firstSeenEpoch: u16, lastSeenEpoch: u16 });

describe('registry row codec', () => {
  describe('pin', () => {
    it('encodes a row to the literal bytes of docs/design.md, "Registry row"', () => {
      expect(encodeRegistryRow(ROW)).toEqual(PIN);
      expect(REGISTRY_ROW_LENGTH).toBe(12);
    });

    it('decodes the literal bytes back', () => {
      expect(decodeRegistryRow(PIN)).toEqual(ROW);
    });

    it('decodes a row that sits at an offset inside a larger buffer', () => {
      expect(decodeRegistryRow(atOffset(PIN))).toEqual(ROW);
    });

    it('keeps the top bit of a full node id above 2^63', () => {
      const high: RegistryRow = { fullNodeId: 0x8000_0000_0000_0001n, firstSeenEpoch: 0, lastSeenEpoch: 0xffff };
      expect(encodeRegistryRow(high)).toEqual(new Uint8Array([0x80, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0xff, 0xff]));
      expect(decodeRegistryRow(encodeRegistryRow(high))).toEqual(high);
    });
  });

  describe('malformed rows', () => {
    it.each([0, 1, 8, 10, 11, 13, 14, 24])('rejects a row of length %i', (n) => {
      const value = new Uint8Array(n).fill(0x5a);
      expectCode(() => decodeRegistryRow(value), ErrorCode.REGISTRY_VALUE_MALFORMED);
    });

    it('rejects every truncation of the pin', () => {
      for (let n = 0; n < PIN.length; n++) {
        expectCode(() => decodeRegistryRow(PIN.slice(0, n)), ErrorCode.REGISTRY_VALUE_MALFORMED);
      }
    });

    it('rejects a value that is not a Uint8Array', () => {
      for (const v of [null, undefined, 'abcdefghijkl', Array.from(PIN)]) {
        expectCode(() => decodeRegistryRow(v as never), ErrorCode.REGISTRY_VALUE_MALFORMED);
      }
    });
  });

  describe('encode range checks', () => {
    it.each([-1n, 2n ** 64n, 5, '5'])('rejects full_node_id %s', (id) => {
      expectCode(() => encodeRegistryRow({ ...ROW, fullNodeId: id as bigint }), ErrorCode.INVALID_ARGUMENT);
    });

    it.each([-1, 0x10000, 1.5, Number.NaN, 1n])('rejects first and last epoch %s', (epoch) => {
      expectCode(() => encodeRegistryRow({ ...ROW, firstSeenEpoch: epoch as number }), ErrorCode.INVALID_ARGUMENT);
      expectCode(() => encodeRegistryRow({ ...ROW, lastSeenEpoch: epoch as number }), ErrorCode.INVALID_ARGUMENT);
    });

    it('accepts the edges 0 and the maxima', () => {
      const max: RegistryRow = { fullNodeId: 2n ** 64n - 1n, firstSeenEpoch: 0xffff, lastSeenEpoch: 0xffff };
      const min: RegistryRow = { fullNodeId: 0n, firstSeenEpoch: 0, lastSeenEpoch: 0 };
      expect(encodeRegistryRow(max)).toEqual(new Uint8Array(12).fill(0xff));
      expect(encodeRegistryRow(min)).toEqual(new Uint8Array(12));
      expect(decodeRegistryRow(encodeRegistryRow(max))).toEqual(max);
      expect(decodeRegistryRow(encodeRegistryRow(min))).toEqual(min);
    });
  });

  describe('properties', () => {
    it('decode(encode(row)) is row', () => {
      fc.assert(
        fc.property(row, (r) => {
          expect(decodeRegistryRow(encodeRegistryRow(r))).toEqual(r);
        }),
        { numRuns: 1000 },
      );
    });

    it('encode(decode(bytes)) is bytes for every 12-byte value', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 12, maxLength: 12 }), (bytes) => {
          expect(encodeRegistryRow(decodeRegistryRow(bytes))).toEqual(bytes);
        }),
        { numRuns: 1000 },
      );
    });

    it('random bytes either decode (12 bytes) or raise ERR_REGISTRY_VALUE_MALFORMED', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
          const r = decodeOrUndefined(decodeRegistryRow, bytes);
          expect(r !== undefined).toBe(bytes.length === 12);
          if (r === undefined) expectCode(() => decodeRegistryRow(bytes), ErrorCode.REGISTRY_VALUE_MALFORMED);
        }),
        { numRuns: 1000 },
      );
    });
  });
});
