import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, MAX_BOOTSTRAP_BATCH, decodeBootstrap, encodeBootstrap, type Bootstrap } from '../../src/index.js';
import { atOffset, bootstrap, concat, decodeOrUndefined, expectCode, startingWith, truncated, u32be, withFlippedBit } from './support.js';

const BOOT: Bootstrap = {
  storageDekId: 0x01020304,
  storageWrapped: new Uint8Array([0xa1, 0xa2, 0xa3]),
  raftDekId: 0x0a0b0c0d,
  raftWrapped: new Uint8Array([0xb1, 0xb2]),
  registrations: [
    { dekId: 0x01020304, fullNodeId: 0x1122334455667788n, localEpoch: 0xabcd },
    { dekId: 0x0a0b0c0d, fullNodeId: 0x8877665544332211n, localEpoch: 0x0102 },
  ],
};

// biome-ignore format: a byte-layout pin, one wire field per line
const PIN = new Uint8Array([
  0x04,                                           // opcode bootstrap
  0x01,                                           // version
  0x01, 0x02, 0x03, 0x04,                         // storage_dek 0x01020304
  0x00, 0x00, 0x00, 0x03,                         // storage wrapped len 3
  0xa1, 0xa2, 0xa3,                               // storage wrapped
  0x0a, 0x0b, 0x0c, 0x0d,                         // raft_dek 0x0A0B0C0D
  0x00, 0x00, 0x00, 0x02,                         // raft wrapped len 2
  0xb1, 0xb2,                                     // raft wrapped
  0x00, 0x00, 0x00, 0x02,                         // count 2
  0x01, 0x02, 0x03, 0x04,                         // batch[0] dek_id 0x01020304
  0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, // batch[0] full_node_id 0x1122334455667788
  0xab, 0xcd,                                     // batch[0] local_epoch 0xABCD
  0x0a, 0x0b, 0x0c, 0x0d,                         // batch[1] dek_id 0x0A0B0C0D
  0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, // batch[1] full_node_id 0x8877665544332211
  0x01, 0x02,                                     // batch[1] local_epoch 0x0102
]);

const EMPTY: Bootstrap = {
  storageDekId: 1,
  storageWrapped: new Uint8Array(0),
  raftDekId: 2,
  raftWrapped: new Uint8Array(0),
  registrations: [],
};

// biome-ignore format: a byte-layout pin, one wire field per line
const EMPTY_PIN = new Uint8Array([
  0x04,                   // opcode bootstrap
  0x01,                   // version
  0x00, 0x00, 0x00, 0x01, // storage_dek 1
  0x00, 0x00, 0x00, 0x00, // storage wrapped len 0
  0x00, 0x00, 0x00, 0x02, // raft_dek 2
  0x00, 0x00, 0x00, 0x00, // raft wrapped len 0
  0x00, 0x00, 0x00, 0x00, // count 0
]);

/** A bootstrap header with empty wrapped DEKs, claiming `count` rows, followed by `rest`. */
function claiming(count: number, rest: Uint8Array | readonly number[] = []): Uint8Array {
  return concat([0x04, 0x01], u32be(1), u32be(0), u32be(2), u32be(0), u32be(count), rest);
}

/** `n` registration tuples, each naming DEK 1. */
function tuples(n: number): Uint8Array {
  const out = new Uint8Array(n * 14);
  for (let i = 0; i < n; i++) out.set([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, (i >> 8) & 0xff, i & 0xff, 0, 1], i * 14);
  return out;
}

describe('bootstrap codec', () => {
  describe('pin', () => {
    it('encodes a bootstrap to the literal bytes of docs/design.md, "Bootstrap entry"', () => {
      expect(encodeBootstrap(BOOT)).toEqual(PIN);
    });

    it('decodes the literal bytes back', () => {
      expect(decodeBootstrap(PIN)).toEqual(BOOT);
    });

    it('encodes and decodes an empty bootstrap (no wrapped bytes, no batch) as 22 bytes', () => {
      expect(encodeBootstrap(EMPTY)).toEqual(EMPTY_PIN);
      expect(decodeBootstrap(EMPTY_PIN)).toEqual(EMPTY);
    });

    it('decodes an entry that sits at an offset inside a larger buffer', () => {
      expect(decodeBootstrap(atOffset(PIN))).toEqual(BOOT);
    });
  });

  describe('aliasing', () => {
    it('decoded wrapped DEKs do not alias the input', () => {
      const input = new Uint8Array(PIN);
      const decoded = decodeBootstrap(input);
      input.fill(0);
      expect(decoded).toEqual(BOOT);
    });

    it('decoded wrapped DEKs do not alias a Node Buffer input', () => {
      const input = Buffer.from(PIN);
      const decoded = decodeBootstrap(input);
      input.fill(0);
      expect(decoded.storageWrapped).toEqual(new Uint8Array([0xa1, 0xa2, 0xa3]));
      expect(decoded.raftWrapped).toEqual(new Uint8Array([0xb1, 0xb2]));
      expect(Object.getPrototypeOf(decoded.storageWrapped)).toBe(Uint8Array.prototype);
    });

    it('the encoding does not alias the value encoded', () => {
      const value: Bootstrap = { ...BOOT, storageWrapped: new Uint8Array(BOOT.storageWrapped) };
      const bytes = encodeBootstrap(value);
      value.storageWrapped.fill(0);
      expect(bytes).toEqual(PIN);
    });
  });

  describe('malformed entries', () => {
    it('rejects every truncation of the pin with ERR_FSM_WIRE_MALFORMED', () => {
      for (let n = 0; n < PIN.length; n++) {
        expectCode(() => decodeBootstrap(PIN.slice(0, n)), ErrorCode.FSM_WIRE_MALFORMED);
      }
    });

    it('rejects every truncation of the empty bootstrap', () => {
      for (let n = 0; n < EMPTY_PIN.length; n++) {
        expectCode(() => decodeBootstrap(EMPTY_PIN.slice(0, n)), ErrorCode.FSM_WIRE_MALFORMED);
      }
    });

    it.each([1, 13, 14, 100])('rejects %i trailing bytes', (extra) => {
      expectCode(() => decodeBootstrap(concat(PIN, new Uint8Array(extra))), ErrorCode.FSM_WIRE_MALFORMED);
    });

    it.each([
      { v: 0x00, hex: '0x00' },
      { v: 0x02, hex: '0x02' },
      { v: 0xff, hex: '0xFF' },
    ])('rejects version $hex with ERR_FSM_WIRE_VERSION', ({ v }) => {
      const entry = new Uint8Array(PIN);
      entry[1] = v;
      expectCode(() => decodeBootstrap(entry), ErrorCode.FSM_WIRE_VERSION);
    });

    it('rejects another opcode', () => {
      for (const op of [0x00, 0x03, 0x05, 0x06, 0xff]) {
        const entry = new Uint8Array(PIN);
        entry[0] = op;
        expectCode(() => decodeBootstrap(entry), ErrorCode.FSM_WIRE_MALFORMED);
      }
    });

    it('rejects a value that is not a Uint8Array with ERR_FSM_WIRE_MALFORMED', () => {
      for (const v of [null, undefined, '\x04\x01', Array.from(PIN)]) {
        expectCode(() => decodeBootstrap(v as never), ErrorCode.FSM_WIRE_MALFORMED);
      }
    });
  });

  describe('batch count', () => {
    it('accepts exactly 16384 rows', () => {
      expect(MAX_BOOTSTRAP_BATCH).toBe(16384);
      const b = decodeBootstrap(claiming(16384, tuples(16384)));
      expect(b.registrations.length).toBe(16384);
      expect(b.registrations[16383]).toEqual({ dekId: 1, fullNodeId: 16383n, localEpoch: 1 });
    });

    it('rejects 16385 rows even when all their bytes are present', () => {
      const err = expectCode(() => decodeBootstrap(claiming(16385, tuples(16385))), ErrorCode.FSM_WIRE_MALFORMED);
      expect(err.message).toMatch(/16384/);
    });

    it('rejects a 30-byte entry claiming 0xFFFFFFFF rows on the cap, before sizing anything from the count', () => {
      const entry = claiming(0xffff_ffff, new Uint8Array(8));
      expect(entry.length).toBe(30);
      const err = expectCode(() => decodeBootstrap(entry), ErrorCode.FSM_WIRE_MALFORMED);
      expect(err.message).toMatch(/16384/);
    });

    it('rejects 16385 rows with no row bytes on the cap', () => {
      const err = expectCode(() => decodeBootstrap(claiming(16385)), ErrorCode.FSM_WIRE_MALFORMED);
      expect(err.message).toMatch(/16384/);
    });

    it.each([1, 2, 100, 16384])('rejects a count of %i with one byte fewer than count × 14 left', (count) => {
      const remaining = count * 14 - 1;
      const err = expectCode(() => decodeBootstrap(claiming(count, tuples(count).subarray(0, remaining))), ErrorCode.FSM_WIRE_MALFORMED);
      expect(err.message).toContain(`${remaining} left`);
    });

    it('rejects a count below the rows present (trailing rows)', () => {
      expectCode(() => decodeBootstrap(claiming(1, tuples(2))), ErrorCode.FSM_WIRE_MALFORMED);
    });
  });

  describe('wrapped length prefixes', () => {
    it.each([0x8000_0000, 0xffff_fff0, 0xffff_ffff])('rejects a storage wrapped len %i with short input', (len) => {
      const entry = concat([0x04, 0x01], u32be(1), u32be(len), new Uint8Array(40));
      expectCode(() => decodeBootstrap(entry), ErrorCode.FSM_WIRE_MALFORMED);
    });

    it.each([0x8000_0000, 0xffff_fff0, 0xffff_ffff])('rejects a raft wrapped len %i with short input', (len) => {
      const entry = concat([0x04, 0x01], u32be(1), u32be(0), u32be(2), u32be(len), new Uint8Array(40));
      expectCode(() => decodeBootstrap(entry), ErrorCode.FSM_WIRE_MALFORMED);
    });

    it('rejects any length prefix that overruns the input by a single byte', () => {
      const storage = new Uint8Array(PIN);
      storage.set(u32be(PIN.length - 10 + 1), 6); // storage len = everything after it, plus one
      expectCode(() => decodeBootstrap(storage), ErrorCode.FSM_WIRE_MALFORMED);
      const raft = new Uint8Array(PIN);
      raft.set(u32be(PIN.length - 21 + 1), 17); // raft len = everything after it, plus one
      expectCode(() => decodeBootstrap(raft), ErrorCode.FSM_WIRE_MALFORMED);
    });

    it('rejects random wrapped lengths longer than the input that follows', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), fc.uint8Array({ maxLength: 64 }), fc.boolean(), (len, tail, raft) => {
          fc.pre(len > tail.length);
          const entry = raft
            ? concat([0x04, 0x01], u32be(1), u32be(0), u32be(2), u32be(len), tail)
            : concat([0x04, 0x01], u32be(1), u32be(len), tail);
          expectCode(() => decodeBootstrap(entry), ErrorCode.FSM_WIRE_MALFORMED);
        }),
        { numRuns: 500 },
      );
    });
  });

  describe('encode checks', () => {
    it('refuses more than 16384 registrations', () => {
      const reg = { dekId: 1, fullNodeId: 1n, localEpoch: 1 };
      expectCode(() => encodeBootstrap({ ...EMPTY, registrations: new Array(16385).fill(reg) }), ErrorCode.INVALID_ARGUMENT);
      expect(encodeBootstrap({ ...EMPTY, registrations: new Array(16384).fill(reg) }).length).toBe(22 + 16384 * 14);
    });

    it.each([-1, 2 ** 32, 1.5, Number.NaN])('rejects storage and raft dek ids %s', (v) => {
      expectCode(() => encodeBootstrap({ ...BOOT, storageDekId: v }), ErrorCode.INVALID_ARGUMENT);
      expectCode(() => encodeBootstrap({ ...BOOT, raftDekId: v }), ErrorCode.INVALID_ARGUMENT);
    });

    it('rejects an out-of-range field in a batch registration', () => {
      const bad = [
        { dekId: -1, fullNodeId: 1n, localEpoch: 1 },
        { dekId: 1, fullNodeId: 2n ** 64n, localEpoch: 1 },
        { dekId: 1, fullNodeId: -1n, localEpoch: 1 },
        { dekId: 1, fullNodeId: 1n, localEpoch: 0x10000 },
      ];
      for (const reg of bad) {
        expectCode(() => encodeBootstrap({ ...BOOT, registrations: [BOOT.registrations[0]!, reg] }), ErrorCode.INVALID_ARGUMENT);
      }
    });

    it('rejects wrapped DEKs and batches of the wrong type', () => {
      expectCode(() => encodeBootstrap({ ...BOOT, storageWrapped: [1, 2] as never }), ErrorCode.INVALID_ARGUMENT);
      expectCode(() => encodeBootstrap({ ...BOOT, raftWrapped: 'ab' as never }), ErrorCode.INVALID_ARGUMENT);
      expectCode(() => encodeBootstrap({ ...BOOT, registrations: undefined as never }), ErrorCode.INVALID_ARGUMENT);
      for (const row of [null, undefined, 7]) {
        expectCode(() => encodeBootstrap({ ...BOOT, registrations: [BOOT.registrations[0]!, row as never] }), ErrorCode.INVALID_ARGUMENT);
      }
    });
  });

  describe('properties', () => {
    it('decode(encode(x)) is x (wrapped 0..200 bytes, batches of 0..50)', () => {
      fc.assert(
        fc.property(bootstrap, (b) => {
          expect(decodeBootstrap(encodeBootstrap(b))).toEqual(b);
        }),
        { numRuns: 500 },
      );
    });

    it('encode(decode(bytes)) is bytes for valid encodings', () => {
      fc.assert(
        fc.property(bootstrap, (b) => {
          const bytes = encodeBootstrap(b);
          expect(encodeBootstrap(decodeBootstrap(bytes))).toEqual(bytes);
        }),
        { numRuns: 500 },
      );
    });

    it('hostile bytes raise only keyledger errors, and whatever decodes re-encodes identically', () => {
      const valid = bootstrap.map(encodeBootstrap);
      const hostile = fc.oneof(
        fc.uint8Array({ maxLength: 80 }),
        startingWith([0x04]),
        startingWith([0x04, 0x01]),
        withFlippedBit(valid),
        truncated(valid),
      );
      fc.assert(
        fc.property(hostile, (bytes) => {
          const b = decodeOrUndefined(decodeBootstrap, bytes);
          if (b !== undefined) expect(encodeBootstrap(b)).toEqual(bytes);
        }),
        { numRuns: 1000 },
      );
    });
  });
});
