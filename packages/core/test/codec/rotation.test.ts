import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, Purpose, RotationSubtag, decodeRotation, encodeRotation, type Rotation } from '../../src/index.js';
import { atOffset, concat, decodeOrUndefined, expectCode, rotation, startingWith, truncated, u32be, withFlippedBit } from './support.js';

const ROT: Rotation = {
  subtag: RotationSubtag.ROTATE_DEK,
  dekId: 0x01020304,
  purpose: Purpose.RAFT,
  wrapped: new Uint8Array([0xc1, 0xc2, 0xc3, 0xc4]),
  proposer: { dekId: 0x01020304, fullNodeId: 0x1122334455667788n, localEpoch: 0xabcd },
};

// biome-ignore format: a byte-layout pin, one wire field per line
const PIN = new Uint8Array([
  0x05,                                           // opcode rotation
  0x01,                                           // version
  0x01,                                           // subtag 0x01 rotate DEK
  0x01, 0x02, 0x03, 0x04,                         // dek_id 0x01020304
  0x02,                                           // purpose 2 raft
  0x00, 0x00, 0x00, 0x04,                         // wrapped len 4
  0xc1, 0xc2, 0xc3, 0xc4,                         // wrapped
  0x01, 0x02, 0x03, 0x04,                         // proposer dek_id 0x01020304
  0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, // proposer full_node_id 0x1122334455667788
  0xab, 0xcd,                                     // proposer local_epoch 0xABCD
]);

const ENVELOPE: Rotation = {
  subtag: RotationSubtag.ENABLE_STORAGE_ENVELOPE,
  dekId: 0x0a0b0c0d,
  purpose: Purpose.STORAGE,
  wrapped: new Uint8Array(0),
  proposer: { dekId: 0x0a0b0c0d, fullNodeId: 0xfedcba9876543210n, localEpoch: 0x0102 },
};

// biome-ignore format: a byte-layout pin, one wire field per line
const ENVELOPE_PIN = new Uint8Array([
  0x05,                                           // opcode rotation
  0x01,                                           // version
  0x04,                                           // subtag 0x04 enable storage envelope
  0x0a, 0x0b, 0x0c, 0x0d,                         // dek_id 0x0A0B0C0D
  0x01,                                           // purpose 1 storage
  0x00, 0x00, 0x00, 0x00,                         // wrapped len 0
  0x0a, 0x0b, 0x0c, 0x0d,                         // proposer dek_id 0x0A0B0C0D
  0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10, // proposer full_node_id 0xFEDCBA9876543210
  0x01, 0x02,                                     // proposer local_epoch 0x0102
]);

const SUBTAG_OFFSET = 2;
const PURPOSE_OFFSET = 7;
const LEN_OFFSET = 8;

describe('rotation codec', () => {
  describe('pin', () => {
    it('encodes a DEK rotation to the literal bytes of docs/design.md, "Rotation entry"', () => {
      expect(encodeRotation(ROT)).toEqual(PIN);
    });

    it('decodes the literal bytes back', () => {
      expect(decodeRotation(PIN)).toEqual(ROT);
    });

    it('encodes and decodes a storage envelope cutover with an empty wrapped DEK', () => {
      expect(encodeRotation(ENVELOPE)).toEqual(ENVELOPE_PIN);
      expect(decodeRotation(ENVELOPE_PIN)).toEqual(ENVELOPE);
    });

    it('encodes the raft envelope subtag as 0x05', () => {
      const raft: Rotation = { ...ENVELOPE, subtag: RotationSubtag.ENABLE_RAFT_ENVELOPE, purpose: Purpose.RAFT };
      const bytes = encodeRotation(raft);
      expect(bytes[SUBTAG_OFFSET]).toBe(0x05);
      expect(bytes[PURPOSE_OFFSET]).toBe(0x02);
      expect(decodeRotation(bytes)).toEqual(raft);
    });

    it('decodes an entry that sits at an offset inside a larger buffer', () => {
      expect(decodeRotation(atOffset(PIN))).toEqual(ROT);
    });
  });

  describe('aliasing', () => {
    it('the decoded wrapped DEK does not alias the input', () => {
      const input = new Uint8Array(PIN);
      const decoded = decodeRotation(input);
      input.fill(0);
      expect(decoded).toEqual(ROT);
    });

    it('the decoded wrapped DEK does not alias a Node Buffer input', () => {
      const input = Buffer.from(PIN);
      const decoded = decodeRotation(input);
      input.fill(0);
      expect(decoded.wrapped).toEqual(new Uint8Array([0xc1, 0xc2, 0xc3, 0xc4]));
      expect(Object.getPrototypeOf(decoded.wrapped)).toBe(Uint8Array.prototype);
    });
  });

  describe('malformed entries', () => {
    it('rejects every truncation of the pin with ERR_FSM_WIRE_MALFORMED', () => {
      for (let n = 0; n < PIN.length; n++) {
        expectCode(() => decodeRotation(PIN.slice(0, n)), ErrorCode.FSM_WIRE_MALFORMED);
      }
    });

    it('rejects every truncation of the envelope pin', () => {
      for (let n = 0; n < ENVELOPE_PIN.length; n++) {
        expectCode(() => decodeRotation(ENVELOPE_PIN.slice(0, n)), ErrorCode.FSM_WIRE_MALFORMED);
      }
    });

    it.each([1, 13, 14, 100])('rejects %i trailing bytes', (extra) => {
      expectCode(() => decodeRotation(concat(PIN, new Uint8Array(extra))), ErrorCode.FSM_WIRE_MALFORMED);
    });

    it.each([
      { v: 0x00, hex: '0x00' },
      { v: 0x02, hex: '0x02' },
      { v: 0xff, hex: '0xFF' },
    ])('rejects version $hex with ERR_FSM_WIRE_VERSION', ({ v }) => {
      const entry = new Uint8Array(PIN);
      entry[1] = v;
      expectCode(() => decodeRotation(entry), ErrorCode.FSM_WIRE_VERSION);
    });

    it.each([
      { v: 0x00, hex: '0x00' },
      { v: 0x02, hex: '0x02' },
      { v: 0x03, hex: '0x03' },
      { v: 0x06, hex: '0x06' },
      { v: 0xff, hex: '0xFF' },
    ])('rejects subtag $hex with ERR_FSM_WIRE_SUBTAG', ({ v }) => {
      const entry = new Uint8Array(PIN);
      entry[SUBTAG_OFFSET] = v;
      expectCode(() => decodeRotation(entry), ErrorCode.FSM_WIRE_SUBTAG);
    });

    it('accepts subtags 0x01, 0x04, 0x05 and rejects the other 253', () => {
      for (let v = 0; v < 256; v++) {
        const entry = new Uint8Array(PIN);
        entry[SUBTAG_OFFSET] = v;
        if (v === 0x01 || v === 0x04 || v === 0x05) expect(decodeRotation(entry).subtag).toBe(v);
        else expectCode(() => decodeRotation(entry), ErrorCode.FSM_WIRE_SUBTAG);
      }
    });

    it.each([0, 3, 255])('rejects purpose %i with ERR_FSM_WIRE_MALFORMED', (v) => {
      const entry = new Uint8Array(PIN);
      entry[PURPOSE_OFFSET] = v;
      expectCode(() => decodeRotation(entry), ErrorCode.FSM_WIRE_MALFORMED);
    });

    it('accepts purposes 1 and 2 and rejects the other 254', () => {
      for (let v = 0; v < 256; v++) {
        const entry = new Uint8Array(PIN);
        entry[PURPOSE_OFFSET] = v;
        if (v === 1 || v === 2) expect(decodeRotation(entry).purpose).toBe(v);
        else expectCode(() => decodeRotation(entry), ErrorCode.FSM_WIRE_MALFORMED);
      }
    });

    it.each([5, 0x8000_0000, 0xffff_fff0, 0xffff_ffff])('rejects wrapped len %i that overruns the input', (len) => {
      const entry = new Uint8Array(PIN);
      entry.set(u32be(len), LEN_OFFSET);
      expectCode(() => decodeRotation(entry), ErrorCode.FSM_WIRE_MALFORMED);
    });

    it('rejects random wrapped lengths longer than the input that follows', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), fc.uint8Array({ maxLength: 64 }), (len, tail) => {
          fc.pre(len > tail.length);
          const entry = concat([0x05, 0x01, 0x01], u32be(1), [0x01], u32be(len), tail);
          expectCode(() => decodeRotation(entry), ErrorCode.FSM_WIRE_MALFORMED);
        }),
        { numRuns: 500 },
      );
    });

    it('rejects another opcode', () => {
      for (const op of [0x00, 0x03, 0x04, 0x06, 0xff]) {
        const entry = new Uint8Array(PIN);
        entry[0] = op;
        expectCode(() => decodeRotation(entry), ErrorCode.FSM_WIRE_MALFORMED);
      }
    });

    it('rejects a value that is not a Uint8Array with ERR_FSM_WIRE_MALFORMED', () => {
      for (const v of [null, undefined, '\x05\x01', Array.from(PIN)]) {
        expectCode(() => decodeRotation(v as never), ErrorCode.FSM_WIRE_MALFORMED);
      }
    });
  });

  describe('encode checks', () => {
    it.each([0x00, 0x02, 0x03, 0x06, 0xff, 1.5, Number.NaN])('rejects subtag %s with ERR_INVALID_ARGUMENT', (v) => {
      expectCode(() => encodeRotation({ ...ROT, subtag: v as RotationSubtag }), ErrorCode.INVALID_ARGUMENT);
    });

    it.each([0, 3, 255, Number.NaN])('rejects purpose %s with ERR_INVALID_ARGUMENT', (v) => {
      expectCode(() => encodeRotation({ ...ROT, purpose: v as Purpose }), ErrorCode.INVALID_ARGUMENT);
    });

    it.each([-1, 2 ** 32, 1.5, Number.NaN])('rejects dek_id %s', (v) => {
      expectCode(() => encodeRotation({ ...ROT, dekId: v }), ErrorCode.INVALID_ARGUMENT);
    });

    it.each([null, undefined, 'w1'])('rejects proposer %s with ERR_INVALID_ARGUMENT', (proposer) => {
      expectCode(() => encodeRotation({ ...ROT, proposer: proposer as never }), ErrorCode.INVALID_ARGUMENT);
    });

    it('rejects out-of-range proposer fields', () => {
      const p = ROT.proposer;
      for (const proposer of [
        { ...p, dekId: -1 },
        { ...p, dekId: 2 ** 32 },
        { ...p, fullNodeId: -1n },
        { ...p, fullNodeId: 2n ** 64n },
        { ...p, localEpoch: 0x10000 },
        { ...p, localEpoch: 0.5 },
      ]) {
        expectCode(() => encodeRotation({ ...ROT, proposer }), ErrorCode.INVALID_ARGUMENT);
      }
    });

    it('rejects a wrapped DEK that is not a Uint8Array', () => {
      expectCode(() => encodeRotation({ ...ROT, wrapped: [1, 2, 3] as never }), ErrorCode.INVALID_ARGUMENT);
    });
  });

  describe('properties', () => {
    it('decode(encode(x)) is x for every subtag and purpose', () => {
      fc.assert(
        fc.property(rotation, (r) => {
          expect(decodeRotation(encodeRotation(r))).toEqual(r);
        }),
        { numRuns: 1000 },
      );
    });

    it('encode(decode(bytes)) is bytes for valid encodings', () => {
      fc.assert(
        fc.property(rotation, (r) => {
          const bytes = encodeRotation(r);
          expect(encodeRotation(decodeRotation(bytes))).toEqual(bytes);
        }),
        { numRuns: 1000 },
      );
    });

    it('hostile bytes raise only keyledger errors, and whatever decodes re-encodes identically', () => {
      const valid = rotation.map(encodeRotation);
      const hostile = fc.oneof(
        fc.uint8Array({ maxLength: 60 }),
        startingWith([0x05]),
        startingWith([0x05, 0x01]),
        startingWith([0x05, 0x01, 0x01]),
        withFlippedBit(valid),
        truncated(valid),
      );
      fc.assert(
        fc.property(hostile, (bytes) => {
          const r = decodeOrUndefined(decodeRotation, bytes);
          if (r !== undefined) expect(encodeRotation(r)).toEqual(bytes);
        }),
        { numRuns: 2000 },
      );
    });
  });
});
