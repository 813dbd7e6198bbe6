import { deepStrictEqual, ok, strictEqual } from 'node:assert/strict';
import { Applier, ErrorCode, Purpose, REGISTRY_PREFIX, RotationSubtag, encodeBootstrap, isHalt, registryKey } from '../index.js';
import { bytes, rejectsWithCode, sameBytes, sameEntries, scanAll } from './assertions.js';
import type { ConformanceCase } from './conformance-case.js';
import {
  W1,
  W1_TWIN,
  cutoverEntry,
  newBootstrap,
  newKek,
  observe,
  regEntry,
  rotateDekEntry,
  rowOf,
  unchanged,
  withKeyedApplier,
  wrapNewDek,
} from './fixtures.js';

// The applier over the backend under test: the registration rule and one bootstrap/rotation round
// trip, read back through the store. The rule's backend-independent corners (entry shapes, KEK
// failures, callbacks) are core's own tests (packages/core/test/applier/), run on the memory store.

const group = 'applier';
const row = (fullNodeId: bigint, first: number, last: number) => ({ fullNodeId, firstSeenEpoch: first, lastSeenEpoch: last });
const effectOf = (r: unknown): unknown => (r as { effect?: unknown }).effect;

export const applierCases: ConformanceCase[] = [
  {
    group,
    name: 'registration › insert, advance, replay, rollback and collision, read back through the store',
    async run(ctx) {
      const store = await ctx.open();
      await withKeyedApplier(store, undefined, async (a) => {
        strictEqual(effectOf(await a.applyEntry(regEntry(1, W1, 5))), 'inserted');
        sameBytes(
          await store.get(registryKey(1, W1)),
          bytes(0, 0, 0, 1, 0, 0, 0, 1, 0, 5, 0, 5),
          'row: full_node_id u64 ‖ first u16 ‖ last u16',
        );
        strictEqual(effectOf(await a.applyEntry(regEntry(1, W1, 0xffff))), 'advanced');
        strictEqual(effectOf(await a.applyEntry(regEntry(1, W1, 0xffff))), 'replayed');
        ok(isHalt(await rejectsWithCode(a.applyEntry(regEntry(1, W1, 7)), ErrorCode.LOCAL_EPOCH_ROLLBACK, 'epoch 7 after 0xffff')));
        ok(isHalt(await rejectsWithCode(a.applyEntry(regEntry(1, W1_TWIN, 9)), ErrorCode.NODE_ID_COLLISION, 'another node on the slot')));
        // A different DEK is a different nonce space: the same slot is free there.
        strictEqual(effectOf(await a.applyEntry(regEntry(2, W1_TWIN, 1))), 'inserted');
      });
      deepStrictEqual(await rowOf(store, 1, W1), row(W1, 5, 0xffff));
      deepStrictEqual(await rowOf(store, 2, W1_TWIN), row(W1_TWIN, 1, 1));
      strictEqual((await scanAll(store, REGISTRY_PREFIX)).length, 2, 'the halted entries wrote no row');
    },
  },
  {
    group,
    name: 'registration › a stored row of the wrong length halts with ERR_REGISTRY_VALUE_MALFORMED and is left as it was',
    async run(ctx) {
      const store = await ctx.open();
      const key = registryKey(1, W1);
      for (const bad of [new Uint8Array(11), new Uint8Array(13), new Uint8Array(0)]) {
        await store.write([{ key, value: bad }]);
        await withKeyedApplier(store, undefined, async (a) => {
          const err = await rejectsWithCode(a.applyEntry(regEntry(1, W1, 9)), ErrorCode.REGISTRY_VALUE_MALFORMED, `${bad.length}-byte row`);
          ok(isHalt(err), 'a malformed row must halt, never read as a missing row');
        });
        sameBytes(await store.get(key), bad, `the ${bad.length}-byte row must be left as it was`);
      }
    },
  },
  {
    group,
    name: 'registration › 200 concurrent applies equal the serial result',
    async run(ctx) {
      // Inserts, advances, replays, rollbacks and collisions over 20 nodes sharing 10 slots.
      const entries = Array.from({ length: 200 }, (_, i) =>
        regEntry(1 + (i % 2), (BigInt((i * 7) % 20) << 32n) | BigInt(i % 10), (i * 13) % 9),
      );
      const outcome = (p: Promise<unknown>) =>
        p.then(
          (r) => String(effectOf(r)),
          (e: unknown) => `halt:${(e as { cause?: { code?: string } }).cause?.code ?? String(e)}`,
        );
      const concurrentStore = await ctx.open();
      const serialStore = await ctx.open();
      const concurrent = await withKeyedApplier(concurrentStore, undefined, (a) =>
        Promise.all(entries.map((e) => outcome(a.applyEntry(e)))),
      );
      const serial = await withKeyedApplier(serialStore, undefined, async (a) => {
        const out: string[] = [];
        for (const e of entries) out.push(await outcome(a.applyEntry(e)));
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
        'registry: concurrent vs serial',
      );
    },
  },
  {
    group,
    name: 'registration › rows survive reopening and a new applier continues from them',
    needs: ['durable'],
    async run(ctx) {
      const first = await ctx.open();
      await withKeyedApplier(first, undefined, (a) => a.applyEntry(regEntry(1, W1, 4)));
      const second = await ctx.reopen(first);
      await withKeyedApplier(second, undefined, async (a) => {
        await rejectsWithCode(a.applyEntry(regEntry(1, W1, 3)), ErrorCode.LOCAL_EPOCH_ROLLBACK, 'rollback after reopen');
        await rejectsWithCode(a.applyEntry(regEntry(1, W1_TWIN, 9)), ErrorCode.NODE_ID_COLLISION, 'collision after reopen');
        strictEqual(effectOf(await a.applyEntry(regEntry(1, W1, 4))), 'replayed');
      });
      deepStrictEqual(await rowOf(second, 1, W1), row(W1, 4, 4));
    },
  },
  {
    group,
    name: 'bootstrap and rotation › state, rows and keystore round-trip through the store to a new applier (and a reopen); another KEK is refused',
    async run(ctx) {
      const kek = newKek();
      const first = await ctx.open();
      const held = await withKeyedApplier(first, kek, async (a) => {
        strictEqual(effectOf(await a.applyEntry(encodeBootstrap(await newBootstrap(kek)), 3n)), 'bootstrapped');
        await a.applyEntry(rotateDekEntry(3, Purpose.RAFT, await wrapNewDek(kek), W1, 2), 4n);
        await a.applyEntry(cutoverEntry(RotationSubtag.ENABLE_STORAGE_ENVELOPE, 1, W1, 2), 5n);
        await a.applyEntry(cutoverEntry(RotationSubtag.ENABLE_RAFT_ENVELOPE, 3, W1, 2), 6n);
        return observe(first, a);
      });
      deepStrictEqual(held.keyIds, [1, 2, 3]);
      await withKeyedApplier(first, kek, (a) => unchanged(first, a, held, 'a new applier over the same store'));
      const err = await rejectsWithCode(Applier.open(first, { kek: newKek() }), ErrorCode.KEK_MISMATCH, 'an applier with another KEK');
      ok(!isHalt(err), 'a refused open is not a halt: no entry was applied');
      if (ctx.options.durable === false) return;
      const second = await ctx.reopen(first);
      await withKeyedApplier(second, kek, (a) => unchanged(second, a, held, 'after reopening the store'));
    },
  },
];
