import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, decodeRegistration, encodeRegistration, type Registration } from '../../src/index.js';
import { atOffset, concat, decodeOrUndefined, expectCode, registration, startingWith, truncated, withFlippedBit } from './support.js';

const REG: Registration = { dekId: 0x01020304, fullNodeId: 0x1122334455667788n, localEpoch: 0xabcd };

// biome-ignore format: a byte-layout pin, one wire field per line
const PIN = new Uint8Array([
  0x03,                                           // opcode registration
  0x01,                                           // version
  0x01, 0x02, 0x03, 0x04,                         // dek_id 0x01020304
  0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, // full_node_id 0x1122334455667788
  0xab, 0xcd,                                     // local_epoch 0xABCD
]);

describe('registration codec', () => {
  describe('pin', () => {
    it('encodes a registration to the literal bytes of docs/design.md, "Registration entry"', () => {
      expect(encodeRegistration(REG)).toEqual(PIN);
    });

    it('decodes the literal bytes back', () => {
      expect(decodeRegistration(PIN)).toEqual(REG);
    });

    it('decodes an entry that sits at an offset inside a larger buffer', () => {
      expect(decodeRegistration(atOffset(PIN))).toEqual(REG);
    });

    it('decodes a Node Buffer like a Uint8Array', () => {
      expect(decodeRegistration(Buffer.from(PIN))).toEqual(REG);
    });
  });

  describe('malformed entries', () => {
    it('rejects every truncation (0..15 bytes) with ERR_FSM_WIRE_MALFORMED', () => {
      for (let n = 0; n < PIN.length; n++) {
        expectCode(() => decodeRegistration(PIN.slice(0, n)), ErrorCode.FSM_WIRE_MALFORMED);
      }
    });

    it('rejects a 14-byte body', () => {
      expectCode(() => decodeRegistration(PIN.slice(0, 15)), ErrorCode.FSM_WIRE_MALFORMED);
    });

    it.each([1, 2, 14, 100])('rejects %i trailing bytes', (extra) => {
      expectCode(() => decodeRegistration(concat(PIN, new Uint8Array(extra))), ErrorCode.FSM_WIRE_MALFORMED);
    });

    it.each([
      { v: 0x00, hex: '0x00' },
      { v: 0x02, hex: '0x02' },
      { v: 0xff, hex: '0xFF' },
    ])('rejects version $hex with ERR_FSM_WIRE_VERSION', ({ v }) => {
      const entry = new Uint8Array(PIN);
      entry[1] = v;
      expectCode(() => decodeRegistration(entry), ErrorCode.FSM_WIRE_VERSION);
    });

    it('reports a bad version before the body length, so another version of another size reads as a version problem', () => {
      expectCode(() => decodeRegistration(new Uint8Array([0x03, 0x02])), ErrorCode.FSM_WIRE_VERSION);
      expectCode(() => decodeRegistration(concat([0x03, 0x02], new Uint8Array(40))), ErrorCode.FSM_WIRE_VERSION);
    });

    it('rejects another opcode', () => {
      for (const op of [0x00, 0x04, 0x05, 0x06, 0xff]) {
        const entry = new Uint8Array(PIN);
        entry[0] = op;
        expectCode(() => decodeRegistration(entry), ErrorCode.FSM_WIRE_MALFORMED);
      }
    });

    it('rejects a value that is not a Uint8Array with ERR_FSM_WIRE_MALFORMED', () => {
      for (const v of [null, undefined, '\x03\x01', Array.from(PIN)]) {
        expectCode(() => decodeRegistration(v as never), ErrorCode.FSM_WIRE_MALFORMED);
      }
    });
  });

  describe('encode range checks', () => {
    it.each([-1, 2 ** 32, 1.5, Number.NaN, '1', 1n])('rejects dek_id %s', (v) => {
      expectCode(() => encodeRegistration({ ...REG, dekId: v as number }), ErrorCode.INVALID_ARGUMENT);
    });

    it.each([-1n, 2n ** 64n, 7, '7'])('rejects full_node_id %s', (v) => {
      expectCode(() => encodeRegistration({ ...REG, fullNodeId: v as bigint }), ErrorCode.INVALID_ARGUMENT);
    });

    it.each([-1, 0x10000, 0.5, Number.NaN])('rejects local_epoch %s', (v) => {
      expectCode(() => encodeRegistration({ ...REG, localEpoch: v }), ErrorCode.INVALID_ARGUMENT);
    });

    it('accepts the edges 0 and the maxima', () => {
      const max: Registration = { dekId: 0xffff_ffff, fullNodeId: 2n ** 64n - 1n, localEpoch: 0xffff };
      const min: Registration = { dekId: 0, fullNodeId: 0n, localEpoch: 0 };
      expect(encodeRegistration(max)).toEqual(concat([0x03, 0x01], new Uint8Array(14).fill(0xff)));
      expect(encodeRegistration(min)).toEqual(concat([0x03, 0x01], new Uint8Array(14)));
      expect(decodeRegistration(encodeRegistration(max))).toEqual(max);
      expect(decodeRegistration(encodeRegistration(min))).toEqual(min);
    });
  });

  describe('properties', () => {
    it('decode(encode(x)) is x', () => {
      fc.assert(
        fc.property(registration, (r) => {
          expect(decodeRegistration(encodeRegistration(r))).toEqual(r);
        }),
        { numRuns: 1000 },
      );
    });

    it('encode(decode(bytes)) is bytes for every 16-byte entry with opcode 0x03 and version 0x01', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 14, maxLength: 14 }), (body) => {
          const bytes = concat([0x03, 0x01], body);
          expect(encodeRegistration(decodeRegistration(bytes))).toEqual(bytes);
        }),
        { numRuns: 1000 },
      );
    });

    it('hostile bytes raise only keyledger errors, and whatever decodes re-encodes identically', () => {
      const valid = registration.map(encodeRegistration);
      const hostile = fc.oneof(
        fc.uint8Array({ maxLength: 40 }),
        startingWith([0x03], 30),
        startingWith([0x03, 0x01], 30),
        withFlippedBit(valid),
        truncated(valid),
      );
      fc.assert(
        fc.property(hostile, (bytes) => {
          const r = decodeOrUndefined(decodeRegistration, bytes);
          if (r !== undefined) expect(encodeRegistration(r)).toEqual(bytes);
        }),
        { numRuns: 2000 },
      );
    });
  });
});
