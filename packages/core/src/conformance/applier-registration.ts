import { deepStrictEqual, ok, strictEqual } from 'node:assert/strict';
import { effectOf, kindAndEffect } from './result-view.js';
import { Applier } from '../applier/applier.js';
import { encodeBootstrap } from '../codec/bootstrap.js';
import { registryKey, REGISTRY_PREFIX } from '../codec/registry-key.js';
import { decodeRegistryRow } from '../codec/registry-row.js';
import { encodeRegistration, type Registration } from '../codec/registration.js';
import { Purpose, RotationSubtag, encodeRotation } from '../codec/rotation.js';
import { ErrorCode, isHalt } from '../errors.js';
import type { ApplyResult } from '../applier/apply-result.js';
import type { RegistryStore } from '../store/registry-store.js';
import type { ConformanceCase } from './conformance-case.js';
import { requireDurable } from './conformance-case.js';
import { bytes, rejectsWithCode, sameBytes, sameEntries, scanAll } from './case-fixtures.js';
import { FaultyStore } from './faulty-store.js';

const group = 'applier-registration';

const NODE_A = 0x0000_0001_0000_0007n;
const NODE_B = 0x0000_0002_0000_0007n; // same 16-bit slot (0x0007) as NODE_A
const reg = (fullNodeId: bigint, localEpoch: number, dekId = 1): Uint8Array => encodeRegistration({ dekId, fullNodeId, localEpoch });

async function rowOf(store: RegistryStore, r: Pick<Registration, 'dekId' | 'fullNodeId'>) {
  const v = await store.get(registryKey(r.dekId, r.fullNodeId));
  return v === undefined ? undefined : decodeRegistryRow(v);
}

async function withApplier<T>(store: RegistryStore, fn: (a: Applier) => Promise<T>): Promise<T> {
  const applier = await Applier.open(store);
  try {
    return await fn(applier);
  } finally {
    await applier.close();
  }
}

export const applierRegistrationCases: ConformanceCase[] = [
  {
    group,
    name: 'registration › a free slot is inserted with first = last = epoch',
    async run(ctx) {
      const store = await ctx.open();
      await withApplier(store, async (a) => {
        deepStrictEqual(kindAndEffect(await a.applyEntry(reg(NODE_A, 5), 10n)), { kind: 'registration', effect: 'inserted' });
      });
      deepStrictEqual(await rowOf(store, { dekId: 1, fullNodeId: NODE_A }), { fullNodeId: NODE_A, firstSeenEpoch: 5, lastSeenEpoch: 5 });
      sameBytes(
        (await store.get(registryKey(1, NODE_A)))!,
        bytes(0, 0, 0, 1, 0, 0, 0, 7, 0, 5, 0, 5),
        'the stored row must be full_node_id u64 ‖ first u16 ‖ last u16',
      );
    },
  },
  {
    group,
    name: 'registration › a malformed row halts with ERR_REGISTRY_VALUE_MALFORMED and is left as it was',
    async run(ctx) {
      const store = await ctx.open();
      const key = registryKey(1, NODE_A);
      for (const bad of [new Uint8Array(11), new Uint8Array(13), new Uint8Array(0)]) {
        await store.write([{ key, value: bad }]);
        await withApplier(store, async (a) => {
          const err = await rejectsWithCode(a.applyEntry(reg(NODE_A, 9)), ErrorCode.REGISTRY_VALUE_MALFORMED, `${bad.length}-byte row`);
          ok(isHalt(err), 'a malformed row must halt, never read as a missing row');
        });
        sameBytes(await store.get(key), bad, `the ${bad.length}-byte row must be left as it was`);
      }
    },
  },
  {
    group,
    name: 'registration › another node on the same slot halts with ERR_NODE_ID_COLLISION, checked before epochs',
    async run(ctx) {
      const store = await ctx.open();
      await withApplier(store, async (a) => {
        await a.applyEntry(reg(NODE_A, 5));
        for (const epoch of [4, 5, 6]) {
          const err = await rejectsWithCode(a.applyEntry(reg(NODE_B, epoch)), ErrorCode.NODE_ID_COLLISION, `node B at epoch ${epoch}`);
          ok(isHalt(err), 'a collision must halt');
        }
        // A different DEK is a different nonce space: the same slot is free there.
        await a.applyEntry(reg(NODE_B, 1, 2));
      });
      deepStrictEqual(await rowOf(store, { dekId: 1, fullNodeId: NODE_A }), { fullNodeId: NODE_A, firstSeenEpoch: 5, lastSeenEpoch: 5 });
      deepStrictEqual(await rowOf(store, { dekId: 2, fullNodeId: NODE_B }), { fullNodeId: NODE_B, firstSeenEpoch: 1, lastSeenEpoch: 1 });
    },
  },
  {
    group,
    name: 'registration › equal epoch is an idempotent replay and writes nothing',
    async run(ctx) {
      const store = new FaultyStore(await ctx.open());
      await withApplier(store, async (a) => {
        await a.applyEntry(reg(NODE_A, 3));
        const writes = store.calls.write;
        deepStrictEqual(kindAndEffect(await a.applyEntry(reg(NODE_A, 3))), { kind: 'registration', effect: 'replayed' });
        strictEqual(store.calls.write, writes, 'a replay must not write');
      });
      deepStrictEqual(await rowOf(store, { dekId: 1, fullNodeId: NODE_A }), { fullNodeId: NODE_A, firstSeenEpoch: 3, lastSeenEpoch: 3 });
    },
  },
  {
    group,
    name: 'registration › a lower epoch halts with ERR_LOCAL_EPOCH_ROLLBACK and changes nothing',
    async run(ctx) {
      const store = await ctx.open();
      await withApplier(store, async (a) => {
        await a.applyEntry(reg(NODE_A, 2));
        await a.applyEntry(reg(NODE_A, 8));
        const err = await rejectsWithCode(a.applyEntry(reg(NODE_A, 7)), ErrorCode.LOCAL_EPOCH_ROLLBACK, 'epoch 7 after 8');
        ok(isHalt(err), 'a rollback must halt');
      });
      deepStrictEqual(await rowOf(store, { dekId: 1, fullNodeId: NODE_A }), { fullNodeId: NODE_A, firstSeenEpoch: 2, lastSeenEpoch: 8 });
    },
  },
  {
    group,
    name: 'registration › a higher epoch raises last and keeps first',
    async run(ctx) {
      const store = await ctx.open();
      await withApplier(store, async (a) => {
        await a.applyEntry(reg(NODE_A, 1));
        deepStrictEqual(kindAndEffect(await a.applyEntry(reg(NODE_A, 0xffff))), { kind: 'registration', effect: 'advanced' });
      });
      deepStrictEqual(await rowOf(store, { dekId: 1, fullNodeId: NODE_A }), {
        fullNodeId: NODE_A,
        firstSeenEpoch: 1,
        lastSeenEpoch: 0xffff,
      });
    },
  },
  {
    group,
    name: 'registration › a failing write halts with ERR_STORE_IO, changes nothing, and the entry applies once the store recovers',
    async run(ctx) {
      const store = new FaultyStore(await ctx.open());
      await withApplier(store, async (a) => {
        await a.applyEntry(reg(NODE_A, 1));
        store.plan = { operation: 'write', nth: store.calls.write + 1, mode: 'once' };
        const err = await rejectsWithCode(a.applyEntry(reg(NODE_A, 2)), ErrorCode.STORE_IO, 'write failure');
        ok(isHalt(err), 'a store failure must halt');
        deepStrictEqual(await rowOf(store, { dekId: 1, fullNodeId: NODE_A }), { fullNodeId: NODE_A, firstSeenEpoch: 1, lastSeenEpoch: 1 });
        await a.applyEntry(reg(NODE_A, 2));
      });
      deepStrictEqual(await rowOf(store, { dekId: 1, fullNodeId: NODE_A }), { fullNodeId: NODE_A, firstSeenEpoch: 1, lastSeenEpoch: 2 });
    },
  },
  {
    group,
    name: 'registration › a failing read halts with ERR_STORE_IO and writes nothing',
    async run(ctx) {
      const store = new FaultyStore(await ctx.open());
      await withApplier(store, async (a) => {
        store.plan = { operation: 'get', nth: store.calls.get + 1, mode: 'forever' };
        const writes = store.calls.write;
        const err = await rejectsWithCode(a.applyEntry(reg(NODE_A, 1)), ErrorCode.STORE_IO, 'read failure');
        ok(isHalt(err), 'a store failure must halt');
        strictEqual(store.calls.write, writes, 'nothing may be written after a failed read');
        store.plan = undefined;
        await a.applyEntry(reg(NODE_A, 1));
      });
      deepStrictEqual(await rowOf(store, { dekId: 1, fullNodeId: NODE_A }), { fullNodeId: NODE_A, firstSeenEpoch: 1, lastSeenEpoch: 1 });
    },
  },
  {
    group,
    name: 'registration › 200 concurrent applies equal the serial result',
    async run(ctx) {
      // Inserts, advances, replays, rollbacks and collisions over 20 nodes sharing 10 slots.
      const entries = Array.from({ length: 200 }, (_, i) => {
        const node = (BigInt((i * 7) % 20) << 32n) | BigInt(i % 10);
        return reg(node, (i * 13) % 9, 1 + (i % 2));
      });
      const concurrentStore = await ctx.open();
      const serialStore = await ctx.open();
      const outcome = (p: Promise<unknown>) =>
        p.then(
          (r) => JSON.stringify(kindAndEffect(r as ApplyResult)),
          (e: unknown) => `halt:${(e as { cause?: { code?: string } }).cause?.code ?? String(e)}`,
        );
      const concurrent = await withApplier(concurrentStore, (a) =>
        Promise.all(entries.map((e, i) => outcome(a.applyEntry(e, BigInt(i + 1))))),
      );
      const serial = await withApplier(serialStore, async (a) => {
        const out: string[] = [];
        for (const [i, e] of entries.entries()) out.push(await outcome(a.applyEntry(e, BigInt(i + 1))));
        return out;
      });
      deepStrictEqual(concurrent, serial, 'per-entry outcomes must match the serial run');
      ok(
        serial.some((s) => s.startsWith('halt:')) && serial.some((s) => !s.startsWith('halt:')),
        'the log must mix applied and halted entries',
      );
      sameEntries(
        await scanAll(concurrentStore, REGISTRY_PREFIX),
        await scanAll(serialStore, REGISTRY_PREFIX),
        'registry after concurrent vs serial applies',
      );
    },
  },
  {
    group,
    name: 'group commit › later entries see earlier ones and all commit in one write',
    async run(ctx) {
      const store = new FaultyStore(await ctx.open());
      await withApplier(store, async (a) => {
        const writes = store.calls.write;
        const results = await a.applyEntries([
          { entry: reg(NODE_A, 1), index: 1n },
          { entry: reg(NODE_A, 4), index: 2n },
          { entry: reg(NODE_A, 4), index: 3n },
        ]);
        deepStrictEqual(results.map(effectOf), ['inserted', 'advanced', 'replayed']);
        strictEqual(store.calls.write - writes, 1, 'a group commits with exactly one write');
      });
      deepStrictEqual(await rowOf(store, { dekId: 1, fullNodeId: NODE_A }), { fullNodeId: NODE_A, firstSeenEpoch: 1, lastSeenEpoch: 4 });
    },
  },
  {
    group,
    name: 'group commit › entries before a halt commit; the halted one and later ones do not',
    async run(ctx) {
      const store = await ctx.open();
      await withApplier(store, async (a) => {
        const err = await rejectsWithCode(
          a.applyEntries([
            { entry: reg(NODE_A, 3), index: 11n },
            { entry: reg(NODE_A, 5), index: 12n },
            { entry: reg(NODE_B, 9), index: 13n },
            { entry: reg(NODE_A, 6), index: 14n },
          ]),
          ErrorCode.NODE_ID_COLLISION,
          'group with a collision at position 2',
        );
        ok(isHalt(err), 'the group must halt');
        strictEqual((err as { index?: bigint }).index, 13n, 'the halt names the raft index of the halted entry');
        strictEqual((err as { position?: number }).position, 2, 'the halt names the position of the halted entry');
      });
      deepStrictEqual(await rowOf(store, { dekId: 1, fullNodeId: NODE_A }), { fullNodeId: NODE_A, firstSeenEpoch: 3, lastSeenEpoch: 5 });
    },
  },
  {
    group,
    name: 'applier › a foreign opcode rejects with ERR_NOT_ENCRYPTION_ENTRY (not a halt); reserved opcodes halt',
    async run(ctx) {
      const store = await ctx.open();
      await withApplier(store, async (a) => {
        for (const op of [0x00, 0x01, 0x02, 0x08, 0xff]) {
          const err = await rejectsWithCode(a.applyEntry(bytes(op, 1, 2, 3)), ErrorCode.NOT_ENCRYPTION_ENTRY, `opcode ${op}`);
          ok(!isHalt(err), 'a foreign entry belongs to the host and is not a halt');
        }
        for (const op of [0x06, 0x07]) {
          const err = await rejectsWithCode(a.applyEntry(bytes(op, 1)), ErrorCode.UNKNOWN_OPCODE, `opcode ${op}`);
          ok(isHalt(err), 'a reserved encryption opcode must halt');
        }
      });
      sameEntries(await scanAll(store), [], 'nothing may be written');
    },
  },
  {
    group,
    name: 'applier › without a KEK, bootstrap and rotation halt with ERR_KEK_NOT_CONFIGURED and change nothing',
    async run(ctx) {
      const store = await ctx.open();
      const wrapped = new Uint8Array(60).fill(1);
      await withApplier(store, async (a) => {
        const boot = encodeBootstrap({
          storageDekId: 1,
          storageWrapped: wrapped,
          raftDekId: 2,
          raftWrapped: wrapped,
          registrations: [{ dekId: 1, fullNodeId: NODE_A, localEpoch: 1 }],
        });
        ok(isHalt(await rejectsWithCode(a.applyEntry(boot, 1n), ErrorCode.KEK_NOT_CONFIGURED, 'bootstrap without KEK')));
        const rot = encodeRotation({
          subtag: RotationSubtag.ROTATE_DEK,
          dekId: 3,
          purpose: Purpose.STORAGE,
          wrapped,
          proposer: { dekId: 3, fullNodeId: NODE_A, localEpoch: 1 },
        });
        ok(isHalt(await rejectsWithCode(a.applyEntry(rot, 2n), ErrorCode.KEK_NOT_CONFIGURED, 'rotation without KEK')));
      });
      sameEntries(await scanAll(store), [], 'nothing may be written');
    },
  },
  {
    group,
    name: 'registration › rows survive reopening and a new applier continues from them',
    async run(ctx) {
      const dir = await ctx.freshDir();
      const first = await ctx.open(dir);
      requireDurable(ctx, first);
      await withApplier(first, (a) => a.applyEntry(reg(NODE_A, 4)));
      await first.close();
      const second = await ctx.open(dir);
      await withApplier(second, async (a) => {
        await rejectsWithCode(a.applyEntry(reg(NODE_A, 3)), ErrorCode.LOCAL_EPOCH_ROLLBACK, 'rollback after reopen');
        await rejectsWithCode(a.applyEntry(reg(NODE_B, 9)), ErrorCode.NODE_ID_COLLISION, 'collision after reopen');
        deepStrictEqual(effectOf(await a.applyEntry(reg(NODE_A, 4))), 'replayed');
      });
      deepStrictEqual(await rowOf(second, { dekId: 1, fullNodeId: NODE_A }), { fullNodeId: NODE_A, firstSeenEpoch: 4, lastSeenEpoch: 4 });
    },
  },
];
