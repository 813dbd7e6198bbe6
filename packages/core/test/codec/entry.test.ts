import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  Opcode,
  Purpose,
  RotationSubtag,
  WIRE_VERSION,
  decodeBootstrap,
  decodeEntry,
  decodeRegistration,
  decodeRotation,
  encodeBootstrap,
  encodeEntry,
  encodeRegistration,
  encodeRotation,
  isEncryptionOpcode,
  type Entry,
} from '../../src/index.js';
import {
  bootstrap,
  concat,
  decodeOrUndefined,
  expectCode,
  registration,
  rotation,
  startingWith,
  truncated,
  withFlippedBit,
} from './support.js';

// biome-ignore format: a byte-layout pin, one wire field per line
const REGISTRATION_PIN = new Uint8Array([
  0x03,                                           // opcode registration
  0x01,                                           // version
  0x01, 0x02, 0x03, 0x04,                         // dek_id 0x01020304
  0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, // full_node_id 0x1122334455667788
  0xab, 0xcd,                                     // local_epoch 0xABCD
]);

// biome-ignore format: a byte-layout pin, one wire field per line
const BOOTSTRAP_PIN = new Uint8Array([
  0x04,                                           // opcode bootstrap
  0x01,                                           // version
  0x00, 0x00, 0x00, 0x01,                         // storage_dek 1
  0x00, 0x00, 0x00, 0x01,                         // storage wrapped len 1
  0xa1,                                           // storage wrapped
  0x00, 0x00, 0x00, 0x02,                         // raft_dek 2
  0x00, 0x00, 0x00, 0x00,                         // raft wrapped len 0
  0x00, 0x00, 0x00, 0x01,                         // count 1
  0x00, 0x00, 0x00, 0x02,                         // batch[0] dek_id 2
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, // batch[0] full_node_id 0x100
  0x00, 0x07,                                     // batch[0] local_epoch 7
]);

// biome-ignore format: a byte-layout pin, one wire field per line
const ROTATION_PIN = new Uint8Array([
  0x05,                                           // opcode rotation
  0x01,                                           // version
  0x05,                                           // subtag 0x05 enable raft envelope
  0x00, 0x00, 0x00, 0x02,                         // dek_id 2
  0x02,                                           // purpose 2 raft
  0x00, 0x00, 0x00, 0x00,                         // wrapped len 0
  0x00, 0x00, 0x00, 0x02,                         // proposer dek_id 2
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, // proposer full_node_id 0x100
  0x00, 0x08,                                     // proposer local_epoch 8
]);

const entry: fc.Arbitrary<Entry> = fc.oneof(
  registration.map((r): Entry => ({ kind: 'registration', ...r })),
  bootstrap.map((b): Entry => ({ kind: 'bootstrap', ...b })),
  rotation.map((r): Entry => ({ kind: 'rotation', ...r })),
);

describe('entry codec', () => {
  describe('opcodes', () => {
    it('names the opcodes and version of docs/design.md, "Entry framing"', () => {
      expect(Opcode).toEqual({ REGISTRATION: 0x03, BOOTSTRAP: 0x04, ROTATION: 0x05, RESERVED_6: 0x06, RESERVED_7: 0x07 });
      expect(WIRE_VERSION).toBe(0x01);
    });

    it('isEncryptionOpcode is true for 0x03..0x07 only', () => {
      for (let op = 0; op < 256; op++) expect(isEncryptionOpcode(op), `opcode ${op}`).toBe(op >= 3 && op <= 7);
    });
  });

  describe('dispatch', () => {
    it('dispatches opcode 0x03 to the registration decoder', () => {
      expect(decodeEntry(REGISTRATION_PIN)).toEqual({
        kind: 'registration',
        dekId: 0x01020304,
        fullNodeId: 0x1122334455667788n,
        localEpoch: 0xabcd,
      });
      expect(decodeEntry(REGISTRATION_PIN)).toEqual({ kind: 'registration', ...decodeRegistration(REGISTRATION_PIN) });
    });

    it('dispatches opcode 0x04 to the bootstrap decoder', () => {
      expect(decodeEntry(BOOTSTRAP_PIN)).toEqual({
        kind: 'bootstrap',
        storageDekId: 1,
        storageWrapped: new Uint8Array([0xa1]),
        raftDekId: 2,
        raftWrapped: new Uint8Array(0),
        registrations: [{ dekId: 2, fullNodeId: 0x100n, localEpoch: 7 }],
      });
      expect(decodeEntry(BOOTSTRAP_PIN)).toEqual({ kind: 'bootstrap', ...decodeBootstrap(BOOTSTRAP_PIN) });
    });

    it('dispatches opcode 0x05 to the rotation decoder', () => {
      expect(decodeEntry(ROTATION_PIN)).toEqual({
        kind: 'rotation',
        subtag: RotationSubtag.ENABLE_RAFT_ENVELOPE,
        dekId: 2,
        purpose: Purpose.RAFT,
        wrapped: new Uint8Array(0),
        proposer: { dekId: 2, fullNodeId: 0x100n, localEpoch: 8 },
      });
      expect(decodeEntry(ROTATION_PIN)).toEqual({ kind: 'rotation', ...decodeRotation(ROTATION_PIN) });
    });

    it('encodeEntry re-encodes each pin to its literal bytes', () => {
      for (const pin of [REGISTRATION_PIN, BOOTSTRAP_PIN, ROTATION_PIN]) expect(encodeEntry(decodeEntry(pin))).toEqual(pin);
    });

    it('passes each decoder error through unchanged', () => {
      expectCode(() => decodeEntry(REGISTRATION_PIN.slice(0, 15)), ErrorCode.FSM_WIRE_MALFORMED);
      expectCode(() => decodeEntry(concat([0x04, 0x02], BOOTSTRAP_PIN.subarray(2))), ErrorCode.FSM_WIRE_VERSION);
      expectCode(() => decodeEntry(concat([0x05, 0x01, 0x02], ROTATION_PIN.subarray(3))), ErrorCode.FSM_WIRE_SUBTAG);
    });
  });

  describe('foreign and reserved opcodes', () => {
    it.each([
      { op: 0x06, hex: '0x06' },
      { op: 0x07, hex: '0x07' },
    ])('rejects reserved opcode $hex with ERR_UNKNOWN_OPCODE', ({ op }) => {
      expectCode(() => decodeEntry(new Uint8Array([op])), ErrorCode.UNKNOWN_OPCODE);
      expectCode(() => decodeEntry(concat([op], REGISTRATION_PIN.subarray(1))), ErrorCode.UNKNOWN_OPCODE);
      expectCode(() => decodeEntry(concat([op, 0x02])), ErrorCode.UNKNOWN_OPCODE);
    });

    it.each([
      { op: 0x00, hex: '0x00' },
      { op: 0x01, hex: '0x01' },
      { op: 0x02, hex: '0x02' },
      { op: 0x08, hex: '0x08' },
      { op: 0xff, hex: '0xFF' },
    ])('rejects opcode $hex with ERR_NOT_ENCRYPTION_ENTRY', ({ op }) => {
      expectCode(() => decodeEntry(new Uint8Array([op])), ErrorCode.NOT_ENCRYPTION_ENTRY);
      expectCode(() => decodeEntry(concat([op], REGISTRATION_PIN.subarray(1))), ErrorCode.NOT_ENCRYPTION_ENTRY);
    });

    it('rejects every opcode outside 0x03..0x07 with ERR_NOT_ENCRYPTION_ENTRY, whatever follows', () => {
      for (let op = 0; op < 256; op++) {
        if (op >= 3 && op <= 7) continue;
        expectCode(() => decodeEntry(concat([op, 0xff], new Uint8Array(20))), ErrorCode.NOT_ENCRYPTION_ENTRY);
      }
    });

    it('rejects an empty entry with ERR_FSM_WIRE_MALFORMED', () => {
      expectCode(() => decodeEntry(new Uint8Array(0)), ErrorCode.FSM_WIRE_MALFORMED);
    });

    it('rejects a value that is not a Uint8Array with ERR_FSM_WIRE_MALFORMED', () => {
      for (const v of [null, undefined, '\x03', [0x03, 0x01]]) expectCode(() => decodeEntry(v as never), ErrorCode.FSM_WIRE_MALFORMED);
    });
  });

  describe('aliasing', () => {
    it('decoded wrapped DEKs do not alias the input', () => {
      const boot = new Uint8Array(BOOTSTRAP_PIN);
      const decodedBoot = decodeEntry(boot);
      boot.fill(0);
      expect(decodedBoot).toEqual(decodeEntry(BOOTSTRAP_PIN));

      const rotBytes = encodeRotation({
        subtag: RotationSubtag.ROTATE_DEK,
        dekId: 3,
        purpose: Purpose.STORAGE,
        wrapped: new Uint8Array([1, 2, 3]),
        proposer: { dekId: 3, fullNodeId: 9n, localEpoch: 1 },
      });
      const input = new Uint8Array(rotBytes);
      const decodedRot = decodeEntry(input);
      input.fill(0xee);
      expect(decodedRot).toEqual(decodeEntry(rotBytes));
    });
  });

  describe('properties', () => {
    it('decodeEntry(encodeEntry(x)) is x for every entry kind', () => {
      fc.assert(
        fc.property(entry, (e) => {
          expect(decodeEntry(encodeEntry(e))).toEqual(e);
        }),
        { numRuns: 1000 },
      );
    });

    it('encodeEntry(decodeEntry(bytes)) is bytes for valid encodings of every kind', () => {
      const valid = fc.oneof(registration.map(encodeRegistration), bootstrap.map(encodeBootstrap), rotation.map(encodeRotation));
      fc.assert(
        fc.property(valid, (bytes) => {
          expect(encodeEntry(decodeEntry(bytes))).toEqual(bytes);
        }),
        { numRuns: 1000 },
      );
    });

    it('hostile bytes raise only keyledger errors, and whatever decodes re-encodes identically', () => {
      const valid = entry.map(encodeEntry);
      const hostile = fc.oneof(
        fc.uint8Array({ maxLength: 80 }),
        fc.constantFrom(3, 4, 5, 6, 7).chain((op) => startingWith([op])),
        fc.constantFrom(3, 4, 5).chain((op) => startingWith([op, 0x01])),
        withFlippedBit(valid),
        truncated(valid),
      );
      fc.assert(
        fc.property(hostile, (bytes) => {
          const e = decodeOrUndefined(decodeEntry, bytes);
          if (e !== undefined) expect(encodeEntry(e)).toEqual(bytes);
        }),
        { numRuns: 2000 },
      );
    });
  });
});
