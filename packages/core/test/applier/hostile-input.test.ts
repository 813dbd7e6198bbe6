import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Applier,
  ErrorCode,
  MemoryRegistryStore,
  Purpose,
  RotationSubtag,
  encodeBootstrap,
  encodeRegistration,
  encodeRotation,
  isHalt,
  isKeyledgerError,
  reasonCode,
  type KeyledgerErrorCode,
  type Registration,
} from '../../src/index.js';

/** Registrations every fixture starts with: slot edges, a u64 maximum, a high DEK id. */
const SEEDS: Registration[] = [
  { dekId: 1, fullNodeId: 0x0000_0001_0000_0001n, localEpoch: 5 },
  { dekId: 1, fullNodeId: 0x2n, localEpoch: 0xffff },
  { dekId: 2, fullNodeId: 0xffff_ffff_ffff_ffffn, localEpoch: 1 },
  { dekId: 0xffff_ffff, fullNodeId: 0x1122_3344_5566_7788n, localEpoch: 0x100 },
];

const STORAGE_WRAPPED = new Uint8Array(60).fill(0xa1);
const RAFT_WRAPPED = new Uint8Array(60).fill(0xb2);
const BOOTSTRAP = encodeBootstrap({
  storageDekId: 1,
  storageWrapped: STORAGE_WRAPPED,
  raftDekId: 2,
  raftWrapped: RAFT_WRAPPED,
  registrations: [{ dekId: 1, fullNodeId: 0x0000_0001_0000_0001n, localEpoch: 5 }],
});

interface Fixture {
  store: MemoryRegistryStore;
  applier: Applier;
  /** How many times the KEK was asked to unwrap: a malformed entry must be refused before that. */
  unwraps(): number;
}

/**
 * A memory store pre-filled with {@link SEEDS}. `bootstrapped` adds a KEK (a stand-in that derives
 * 32 bytes from the wrapped bytes) and a bootstrap, so hostile bootstraps and rotations get past
 * ERR_KEK_NOT_CONFIGURED and ERR_NOT_BOOTSTRAPPED and reach the deeper checks.
 */
async function fixture(bootstrapped: boolean): Promise<Fixture> {
  let unwraps = 0;
  const store = new MemoryRegistryStore();
  const applier = bootstrapped
    ? await Applier.open(store, {
        kek: {
          unwrap: async (wrapped: Uint8Array) => {
            unwraps++;
            return new Uint8Array(createHash('sha256').update(wrapped).digest());
          },
        },
        now: () => new Date(0),
      })
    : await Applier.open(store);
  if (bootstrapped) await applier.applyEntry(BOOTSTRAP, 1n);
  for (const r of SEEDS) await applier.applyEntry(encodeRegistration(r), bootstrapped ? 2n : undefined);
  return { store, applier, unwraps: () => unwraps };
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Every row of the store, keys and values, in scan order. */
async function snapshot(store: MemoryRegistryStore): Promise<string[]> {
  const rows: string[] = [];
  for await (const { key, value } of store.scan(new Uint8Array(0))) rows.push(`${hex(key)}=${hex(value)}`);
  return rows;
}

/**
 * Applies `entry`. If it is refused, asserts the refusal is a keyledger error (a halt, unless the
 * opcode belongs to the host) and that neither the store nor the applier's state moved.
 * Returns the error, or undefined when the entry applied.
 */
async function applyHostile(f: Fixture, entry: Uint8Array, index?: bigint): Promise<unknown> {
  const before = await snapshot(f.store);
  const stateBefore = f.applier.state;
  let err: unknown;
  try {
    await f.applier.applyEntry(entry, index);
    return undefined;
  } catch (e) {
    err = e;
  }
  expect(isKeyledgerError(err), `expected a keyledger error, got ${String(err)}`).toBe(true);
  if (reasonCode(err) === ErrorCode.NOT_ENCRYPTION_ENTRY) expect(isHalt(err)).toBe(false);
  else expect(isHalt(err), `expected a halt, got ${String(err)}`).toBe(true);
  expect(await snapshot(f.store)).toEqual(before);
  expect(f.applier.state).toEqual(stateBefore);
  return err;
}

/** Applies `entry`, which must be refused with `reason` and change nothing. */
async function expectRefused(f: Fixture, entry: Uint8Array, reason: KeyledgerErrorCode, index?: bigint): Promise<void> {
  const unwraps = f.unwraps();
  const err = await applyHostile(f, entry, index);
  expect(err, 'the entry applied').toBeDefined();
  expect(reasonCode(err)).toBe(reason);
  expect(f.unwraps(), 'the KEK was consulted for a refused entry').toBe(unwraps);
}

function u32be(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

function concat(...parts: (Uint8Array | readonly number[])[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const index = fc.option(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { nil: undefined });

/** Valid entries that touch the fixture's rows and state, to be bit-flipped. */
const NEAR_MISSES: Uint8Array[] = [
  ...SEEDS.map(encodeRegistration),
  BOOTSTRAP,
  encodeRotation({
    subtag: RotationSubtag.ROTATE_DEK,
    dekId: 3,
    purpose: Purpose.STORAGE,
    wrapped: new Uint8Array(60).fill(0xc3),
    proposer: { dekId: 3, fullNodeId: 0x0000_0001_0000_0001n, localEpoch: 6 },
  }),
  encodeRotation({
    subtag: RotationSubtag.ENABLE_STORAGE_ENVELOPE,
    dekId: 1,
    purpose: Purpose.STORAGE,
    wrapped: new Uint8Array(0),
    proposer: { dekId: 1, fullNodeId: 0x2n, localEpoch: 0xffff },
  }),
];

const hostileEntry: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 120 }),
  fc
    .tuple(fc.constantFrom(0x03, 0x04, 0x05), fc.boolean(), fc.uint8Array({ maxLength: 120 }))
    .map(([op, v1, tail]) => concat(v1 ? [op, 0x01] : [op], tail)),
  fc.tuple(fc.constantFrom(...NEAR_MISSES), fc.nat(), fc.integer({ min: 0, max: 7 })).map(([b, at, bit]) => {
    const out = new Uint8Array(b);
    out[at % b.length] = out[at % b.length]! ^ (1 << bit);
    return out;
  }),
  fc.constantFrom(...NEAR_MISSES).chain((b) => fc.integer({ min: 0, max: b.length - 1 }).map((n) => b.slice(0, n))),
);

describe('applier hostile input', () => {
  describe.each([
    { name: 'registrations only, no KEK', bootstrapped: false },
    { name: 'bootstrapped, with a KEK', bootstrapped: true },
  ])('$name', ({ bootstrapped }) => {
    it('random bytes are refused with keyledger errors only, and a refused entry changes nothing', async () => {
      const f = await fixture(bootstrapped);
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), index, async (entry, i) => {
          await applyHostile(f, entry, i);
        }),
        { numRuns: 500 },
      );
    });

    it('random bodies behind opcodes 0x03, 0x04, 0x05 (and version 0x01) are refused cleanly', async () => {
      const f = await fixture(bootstrapped);
      const arb = fc
        .tuple(fc.constantFrom(0x03, 0x04, 0x05), fc.boolean(), fc.uint8Array({ maxLength: 200 }))
        .map(([op, v1, tail]) => concat(v1 ? [op, 0x01] : [op], tail));
      await fc.assert(
        fc.asyncProperty(arb, index, async (entry, i) => {
          await applyHostile(f, entry, i);
        }),
        { numRuns: 500 },
      );
    });

    it('bit-flipped and truncated valid entries are refused cleanly', async () => {
      const f = await fixture(bootstrapped);
      await fc.assert(
        fc.asyncProperty(hostileEntry, index, async (entry, i) => {
          await applyHostile(f, entry, i);
        }),
        { numRuns: 500 },
      );
    });

    it('still applies a valid registration after a run of hostile input', async () => {
      const f = await fixture(bootstrapped);
      await fc.assert(
        fc.asyncProperty(hostileEntry, async (entry) => {
          await applyHostile(f, entry);
        }),
        { numRuns: 100 },
      );
      const fresh = { dekId: 0x0bad_cafe, fullNodeId: 0xdead_beefn, localEpoch: 1 };
      await expect(f.applier.applyEntry(encodeRegistration(fresh))).resolves.toMatchObject({ kind: 'registration', effect: 'inserted' });
    });
  });

  describe('oversized and lying entries', () => {
    it('refuses a bootstrap with 16,385 rows with ERR_FSM_WIRE_MALFORMED and changes nothing', async () => {
      const f = await fixture(true);
      const rows = new Uint8Array(16385 * 14);
      for (let i = 0; i < 16385; i++) rows.set([0, 0, 0, 1, 0, 0, 0, 0, 0, 0x10, (i >> 8) & 0xff, i & 0xff, 0, 1], i * 14);
      const entry = concat([0x04, 0x01], u32be(1), u32be(60), STORAGE_WRAPPED, u32be(2), u32be(60), RAFT_WRAPPED, u32be(16385), rows);
      await expectRefused(f, entry, ErrorCode.FSM_WIRE_MALFORMED, 3n);
    });

    it('refuses a bootstrap claiming 0xFFFFFFFF rows in 30 bytes', async () => {
      const f = await fixture(true);
      const entry = concat([0x04, 0x01], u32be(1), u32be(0), u32be(2), u32be(0), u32be(0xffff_ffff), new Uint8Array(8));
      await expectRefused(f, entry, ErrorCode.FSM_WIRE_MALFORMED, 3n);
    });

    it.each([
      { field: 'bootstrap storage wrapped len', entry: concat([0x04, 0x01], u32be(1), u32be(0xffff_ffff), new Uint8Array(64)) },
      {
        field: 'bootstrap raft wrapped len',
        entry: concat([0x04, 0x01], u32be(1), u32be(60), STORAGE_WRAPPED, u32be(2), u32be(0xffff_ffff), new Uint8Array(64)),
      },
      { field: 'rotation wrapped len', entry: concat([0x05, 0x01, 0x01], u32be(3), [0x01], u32be(0xffff_ffff), new Uint8Array(64)) },
    ])('refuses a $field of 0xFFFFFFFF with ERR_FSM_WIRE_MALFORMED and changes nothing', async ({ entry }) => {
      for (const bootstrapped of [false, true]) {
        const f = await fixture(bootstrapped);
        await expectRefused(f, entry, ErrorCode.FSM_WIRE_MALFORMED, 3n);
      }
    });

    it('refuses a 100 MiB garbage entry behind opcode 0x04 version 0x01 with ERR_FSM_WIRE_MALFORMED', async () => {
      const entry = new Uint8Array(100 * 2 ** 20);
      entry[0] = 0x04;
      entry[1] = 0x01;
      for (const bootstrapped of [false, true]) {
        const f = await fixture(bootstrapped);
        await expectRefused(f, entry, ErrorCode.FSM_WIRE_MALFORMED, 3n);
      }
      entry[0] = 0x03; // the same bytes as a registration
      await expectRefused(await fixture(false), entry, ErrorCode.FSM_WIRE_MALFORMED);
    });
  });

  describe('opcodes', () => {
    it('refuses every host opcode with ERR_NOT_ENCRYPTION_ENTRY (not a halt) and changes nothing', async () => {
      const f = await fixture(false);
      for (let op = 0; op < 256; op++) {
        if (op >= 0x03 && op <= 0x07) continue;
        await expectRefused(
          f,
          concat([op], encodeRegistration({ dekId: 9, fullNodeId: 9n, localEpoch: 9 }).subarray(1)),
          ErrorCode.NOT_ENCRYPTION_ENTRY,
        );
      }
    });

    it('halts on reserved opcodes 0x06 and 0x07 with ERR_UNKNOWN_OPCODE and changes nothing', async () => {
      const f = await fixture(true);
      for (const op of [0x06, 0x07]) {
        await expectRefused(f, new Uint8Array([op]), ErrorCode.UNKNOWN_OPCODE, 3n);
        await expectRefused(f, concat([op, 0x01], new Uint8Array(30)), ErrorCode.UNKNOWN_OPCODE, 3n);
      }
    });

    it('halts on an empty entry with ERR_FSM_WIRE_MALFORMED', async () => {
      await expectRefused(await fixture(false), new Uint8Array(0), ErrorCode.FSM_WIRE_MALFORMED);
    });
  });
});
