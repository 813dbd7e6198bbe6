import { deepStrictEqual, ok, strictEqual } from 'node:assert/strict';
import { effectOf, kindAndEffect } from './result-view.js';
import { encodeBootstrap } from '../codec/bootstrap.js';
import { REGISTRY_PREFIX } from '../codec/registry-key.js';
import { Purpose, RotationSubtag } from '../codec/rotation.js';
import type { Applier } from '../applier/applier.js';
import type { ApplierOptions } from '../applier/applier-options.js';
import type { FileKek } from '../crypto/file-kek.js';
import { ErrorCode, isHalt } from '../errors.js';
import type { RegistryStore } from '../store/registry-store.js';
import {
  FIXED_NOW,
  W1,
  W1_TWIN,
  W2,
  W3,
  cutoverEntry,
  haltsAndChangesNothing,
  newBootstrap,
  newKek,
  observe,
  onlyIndexRaised,
  regEntry,
  rotateDekEntry,
  rowOf,
  storedStateIsHeld,
  tampered,
  unchanged,
  withKeyedApplier,
  wrapNewDek,
} from './applier-bootstrap.js';
import { rejectsWithCode, scanAll } from './case-fixtures.js';
import type { ConformanceCase } from './conformance-case.js';
import { FaultyStore } from './faulty-store.js';

const group = 'applier-rotation';

const STORAGE_ENV = RotationSubtag.ENABLE_STORAGE_ENVELOPE;
const RAFT_ENV = RotationSubtag.ENABLE_RAFT_ENVELOPE;

/** Every onRaftKeyInstalled call, in order, as `cutover:dek`. */
function recorder(): { calls: string[]; options: ApplierOptions } {
  const calls: string[] = [];
  return { calls, options: { onRaftKeyInstalled: (cutover, dek) => void calls.push(`${cutover}:${dek}`) } };
}

/** Opens a keyed applier on a store bootstrapped at index 10 (storage DEK 1, raft DEK 2, W1..W3 at epoch 1). */
async function withBootstrapped<T>(
  store: RegistryStore,
  kek: FileKek,
  fn: (a: Applier) => Promise<T>,
  options: ApplierOptions = {},
): Promise<T> {
  return withKeyedApplier(
    store,
    kek,
    async (a) => {
      await a.applyEntry(encodeBootstrap(await newBootstrap(kek)), 10n);
      return fn(a);
    },
    options,
  );
}

export const applierRotationCases: ConformanceCase[] = [
  {
    group,
    name: 'rotation › before any bootstrap every subtag halts with ERR_NOT_BOOTSTRAPPED and changes nothing',
    async run(ctx) {
      const kek = newKek();
      const store = await ctx.open();
      await withKeyedApplier(store, kek, async (a) => {
        await a.applyEntry(regEntry(1, W1, 1), 1n);
        await haltsAndChangesNothing(
          store,
          a,
          rotateDekEntry(1, Purpose.STORAGE, await wrapNewDek(kek), W1, 1),
          2n,
          ErrorCode.NOT_BOOTSTRAPPED,
          'rotate DEK',
        );
        await haltsAndChangesNothing(
          store,
          a,
          cutoverEntry(STORAGE_ENV, 1, W1, 1),
          2n,
          ErrorCode.NOT_BOOTSTRAPPED,
          'enable storage envelope',
        );
        await haltsAndChangesNothing(store, a, cutoverEntry(RAFT_ENV, 2, W1, 1), 2n, ErrorCode.NOT_BOOTSTRAPPED, 'enable raft envelope');
      });
    },
  },
  {
    group,
    name: 'rotation › without a KEK a bootstrapped store halts rotations with ERR_KEK_NOT_CONFIGURED, changes nothing, and still applies registrations',
    async run(ctx) {
      const kek = newKek();
      const store = await ctx.open();
      await withBootstrapped(store, kek, async () => undefined);
      const rotation = rotateDekEntry(3, Purpose.STORAGE, await wrapNewDek(kek), W1, 2);
      await withKeyedApplier(store, undefined, async (a) => {
        await haltsAndChangesNothing(store, a, rotation, 11n, ErrorCode.KEK_NOT_CONFIGURED, 'rotate DEK without a KEK');
        await haltsAndChangesNothing(
          store,
          a,
          cutoverEntry(STORAGE_ENV, 1, W1, 2),
          11n,
          ErrorCode.KEK_NOT_CONFIGURED,
          'storage cutover without a KEK',
        );
        await haltsAndChangesNothing(
          store,
          a,
          cutoverEntry(RAFT_ENV, 2, W1, 2),
          11n,
          ErrorCode.KEK_NOT_CONFIGURED,
          'raft cutover without a KEK',
        );
        deepStrictEqual(effectOf(await a.applyEntry(regEntry(1, W1, 2), 12n)), 'advanced');
      });
    },
  },
  {
    group,
    name: 'rotate DEK › installs the key, makes it active for its purpose, keeps the old keys and registers the proposer, in one write',
    async run(ctx) {
      const kek = newKek();
      const store = new FaultyStore(await ctx.open());
      const storage3 = await wrapNewDek(kek);
      const raft4 = await wrapNewDek(kek);
      await withBootstrapped(store, kek, async (a) => {
        let writes = store.calls.write;
        deepStrictEqual(kindAndEffect(await a.applyEntry(rotateDekEntry(3, Purpose.STORAGE, storage3, W1, 2), 11n)), {
          kind: 'rotation',
          effect: 'rotated',
        });
        strictEqual(store.calls.write - writes, 1, 'a rotation commits with exactly one write');
        deepStrictEqual(a.state.active, { storage: 3, raft: 2 });
        writes = store.calls.write;
        deepStrictEqual(kindAndEffect(await a.applyEntry(rotateDekEntry(4, Purpose.RAFT, raft4, W2, 7), 12n)), {
          kind: 'rotation',
          effect: 'rotated',
        });
        strictEqual(store.calls.write - writes, 1, 'a rotation commits with exactly one write');
        const s = a.state;
        deepStrictEqual(s.active, { storage: 3, raft: 4 });
        deepStrictEqual([...s.keys.keys()], [1, 2, 3, 4], 'old keys are kept');
        deepStrictEqual(s.keys.get(3), { purpose: 'storage', wrapped: storage3, created: FIXED_NOW.toISOString(), localEpoch: 0 });
        deepStrictEqual(s.keys.get(4), { purpose: 'raft', wrapped: raft4, created: FIXED_NOW.toISOString(), localEpoch: 0 });
        strictEqual(s.raftAppliedIndex, 12n);
        deepStrictEqual(a.keyIds(), [1, 2, 3, 4]);
        await storedStateIsHeld(store, a, 'after two rotations');
      });
      deepStrictEqual(await rowOf(store, 3, W1), { fullNodeId: W1, firstSeenEpoch: 2, lastSeenEpoch: 2 });
      deepStrictEqual(await rowOf(store, 4, W2), { fullNodeId: W2, firstSeenEpoch: 7, lastSeenEpoch: 7 });
    },
  },
  {
    group,
    name: 'rotate DEK › a proposer registering under another DEK halts with ERR_ENTRY_INVALID and changes nothing (cutovers too)',
    async run(ctx) {
      const kek = newKek();
      const store = await ctx.open();
      await withBootstrapped(store, kek, async (a) => {
        await haltsAndChangesNothing(
          store,
          a,
          rotateDekEntry(3, Purpose.STORAGE, await wrapNewDek(kek), W1, 2, 1),
          11n,
          ErrorCode.ENTRY_INVALID,
          'rotation to 3, proposer under 1',
        );
        await haltsAndChangesNothing(
          store,
          a,
          cutoverEntry(STORAGE_ENV, 1, W1, 2, { proposer: { dekId: 2, fullNodeId: W1, localEpoch: 2 } }),
          11n,
          ErrorCode.ENTRY_INVALID,
          'storage cutover, proposer under 2',
        );
        await haltsAndChangesNothing(
          store,
          a,
          cutoverEntry(RAFT_ENV, 2, W1, 2, { proposer: { dekId: 1, fullNodeId: W1, localEpoch: 2 } }),
          11n,
          ErrorCode.ENTRY_INVALID,
          'raft cutover, proposer under 1',
        );
      });
    },
  },
  {
    group,
    name: 'rotate DEK › a DEK the KEK cannot unwrap halts with ERR_KEK_MISMATCH and changes nothing',
    async run(ctx) {
      const kek = newKek();
      const store = await ctx.open();
      const wrapped = await wrapNewDek(kek);
      await withBootstrapped(store, kek, async (a) => {
        await haltsAndChangesNothing(
          store,
          a,
          rotateDekEntry(3, Purpose.STORAGE, tampered(wrapped), W1, 2),
          11n,
          ErrorCode.KEK_MISMATCH,
          'a tampered DEK',
        );
        await haltsAndChangesNothing(
          store,
          a,
          rotateDekEntry(3, Purpose.RAFT, await wrapNewDek(newKek()), W1, 2),
          11n,
          ErrorCode.KEK_MISMATCH,
          'a DEK wrapped by another KEK',
        );
        deepStrictEqual(effectOf(await a.applyEntry(rotateDekEntry(3, Purpose.STORAGE, wrapped, W1, 2), 11n)), 'rotated');
      });
    },
  },
  {
    group,
    name: 'rotate DEK › an empty wrapped DEK halts with ERR_ENTRY_INVALID and changes nothing',
    async run(ctx) {
      const kek = newKek();
      const store = await ctx.open();
      await withBootstrapped(store, kek, async (a) => {
        await haltsAndChangesNothing(
          store,
          a,
          rotateDekEntry(3, Purpose.STORAGE, new Uint8Array(0), W1, 2),
          11n,
          ErrorCode.ENTRY_INVALID,
          'rotation without a DEK',
        );
      });
    },
  },
  {
    group,
    name: 'rotate DEK › a proposer registration that halts leaves the key uninstalled and nothing written',
    async run(ctx) {
      const kek = newKek();
      const store = await ctx.open();
      await withBootstrapped(store, kek, async (a) => {
        // Slot 1 of DEK 3 already belongs to W1, and W1 is at epoch 5 there.
        await a.applyEntry(regEntry(3, W1, 5), 11n);
        await haltsAndChangesNothing(
          store,
          a,
          rotateDekEntry(3, Purpose.STORAGE, await wrapNewDek(kek), W1_TWIN, 9),
          12n,
          ErrorCode.NODE_ID_COLLISION,
          'proposer on an owned slot',
        );
        await haltsAndChangesNothing(
          store,
          a,
          rotateDekEntry(3, Purpose.STORAGE, await wrapNewDek(kek), W1, 4),
          12n,
          ErrorCode.LOCAL_EPOCH_ROLLBACK,
          'proposer epoch going back',
        );
        deepStrictEqual(a.keyIds(), [1, 2], 'DEK 3 is not in the keystore');
      });
    },
  },
  {
    group,
    name: 'rotate DEK › a failing write halts with ERR_STORE_IO, leaves state, keystore and rows as before, and the entry applies on retry',
    async run(ctx) {
      const kek = newKek();
      const store = new FaultyStore(await ctx.open());
      const entry = rotateDekEntry(3, Purpose.RAFT, await wrapNewDek(kek), W2, 3);
      await withBootstrapped(store, kek, async (a) => {
        store.plan = { operation: 'write', nth: store.calls.write + 1, mode: 'once' };
        await haltsAndChangesNothing(store, a, entry, 11n, ErrorCode.STORE_IO, 'rotation over a failing write');
        deepStrictEqual(effectOf(await a.applyEntry(entry, 11n)), 'rotated');
        deepStrictEqual(a.keyIds(), [1, 2, 3]);
        await storedStateIsHeld(store, a, 'after the retry');
      });
    },
  },
  {
    group,
    name: 'rotate DEK › a replay only raises the applied index; the same id with other bytes or purpose halts with ERR_KEY_CONFLICT',
    async run(ctx) {
      const kek = newKek();
      const store = await ctx.open();
      const wrapped = await wrapNewDek(kek);
      const entry = rotateDekEntry(3, Purpose.STORAGE, wrapped, W1, 2);
      await withBootstrapped(store, kek, async (a) => {
        await a.applyEntry(entry, 11n);
        // A later rotation retired DEK 3; its replay must not make it active again.
        await a.applyEntry(rotateDekEntry(4, Purpose.STORAGE, await wrapNewDek(kek), W1, 3), 12n);
        const before = await observe(store, a);
        deepStrictEqual(await a.applyEntry(entry, 11n), { kind: 'already-applied', index: 11n });
        deepStrictEqual(kindAndEffect(await a.applyEntry(entry)), { kind: 'rotation', effect: 'replayed' });
        await unchanged(store, a, before, 'a replay at a lower index, and one without an index');
        deepStrictEqual(kindAndEffect(await a.applyEntry(entry, 13n)), { kind: 'rotation', effect: 'replayed' });
        await onlyIndexRaised(store, a, before, 13n, 'a replay at a higher index');
        await haltsAndChangesNothing(
          store,
          a,
          rotateDekEntry(3, Purpose.STORAGE, await wrapNewDek(kek), W1, 9),
          14n,
          ErrorCode.KEY_CONFLICT,
          'DEK 3 with other bytes',
        );
        await haltsAndChangesNothing(
          store,
          a,
          rotateDekEntry(3, Purpose.RAFT, wrapped, W1, 9),
          14n,
          ErrorCode.KEY_CONFLICT,
          'DEK 3 for the other purpose',
        );
        await haltsAndChangesNothing(
          store,
          a,
          rotateDekEntry(2, Purpose.STORAGE, await wrapNewDek(kek), W1, 9),
          14n,
          ErrorCode.KEY_CONFLICT,
          'the active raft DEK id as a storage DEK',
        );
      });
    },
  },
  {
    group,
    name: 'storage envelope › enables with the cutover at the raft index and registers the proposer, in one write',
    async run(ctx) {
      const kek = newKek();
      const store = new FaultyStore(await ctx.open());
      await withBootstrapped(store, kek, async (a) => {
        const writes = store.calls.write;
        deepStrictEqual(kindAndEffect(await a.applyEntry(cutoverEntry(STORAGE_ENV, 1, W2, 4), 15n)), {
          kind: 'rotation',
          effect: 'enabled',
        });
        strictEqual(store.calls.write - writes, 1, 'a cutover commits with exactly one write');
        strictEqual(a.state.storageEnvelopeActive, true);
        strictEqual(a.state.storageEnvelopeCutoverIndex, 15n);
        strictEqual(a.state.raftAppliedIndex, 15n);
        strictEqual(a.state.raftEnvelopeCutoverIndex, 0n, 'the raft envelope is not touched');
        await storedStateIsHeld(store, a, 'after the storage cutover');
        // A storage rotation after the cutover keeps the envelope on.
        await a.applyEntry(rotateDekEntry(3, Purpose.STORAGE, await wrapNewDek(kek), W1, 2), 16n);
        strictEqual(a.state.storageEnvelopeActive, true);
        strictEqual(a.state.storageEnvelopeCutoverIndex, 15n);
      });
      deepStrictEqual(await rowOf(store, 1, W2), { fullNodeId: W2, firstSeenEpoch: 1, lastSeenEpoch: 4 });
    },
  },
  {
    group,
    name: 'storage envelope › a wrapped DEK or the raft purpose halts with ERR_ENTRY_INVALID and changes nothing',
    async run(ctx) {
      const kek = newKek();
      const store = await ctx.open();
      await withBootstrapped(store, kek, async (a) => {
        await haltsAndChangesNothing(
          store,
          a,
          cutoverEntry(STORAGE_ENV, 1, W1, 2, { wrapped: await wrapNewDek(kek) }),
          11n,
          ErrorCode.ENTRY_INVALID,
          'storage cutover with a DEK',
        );
        await haltsAndChangesNothing(
          store,
          a,
          cutoverEntry(STORAGE_ENV, 1, W1, 2, { purpose: Purpose.RAFT }),
          11n,
          ErrorCode.ENTRY_INVALID,
          'storage cutover with the raft purpose',
        );
      });
    },
  },
  {
    group,
    name: 'storage envelope › a stale DEK or an already-enabled envelope only raises the applied index, which never goes down',
    async run(ctx) {
      const kek = newKek();
      const store = new FaultyStore(await ctx.open());
      await withBootstrapped(store, kek, async (a) => {
        await a.applyEntry(rotateDekEntry(3, Purpose.STORAGE, await wrapNewDek(kek), W1, 2), 11n);
        let before = await observe(store, a);
        deepStrictEqual(kindAndEffect(await a.applyEntry(cutoverEntry(STORAGE_ENV, 1, W2, 5), 12n)), { kind: 'rotation', effect: 'stale' });
        await onlyIndexRaised(store, a, before, 12n, 'a cutover naming retired DEK 1');
        await a.applyEntry(cutoverEntry(STORAGE_ENV, 3, W1, 2), 13n);
        before = await observe(store, a);
        deepStrictEqual(kindAndEffect(await a.applyEntry(cutoverEntry(STORAGE_ENV, 3, W2, 6), 14n)), {
          kind: 'rotation',
          effect: 'already-enabled',
        });
        await onlyIndexRaised(store, a, before, 14n, 'a second cutover');
        before = await observe(store, a);
        const writes = store.calls.write;
        deepStrictEqual(effectOf(await a.applyEntry(cutoverEntry(STORAGE_ENV, 3, W2, 6), 9n)), 'already-applied');
        deepStrictEqual(effectOf(await a.applyEntry(cutoverEntry(STORAGE_ENV, 3, W2, 6))), 'already-enabled');
        deepStrictEqual(effectOf(await a.applyEntry(cutoverEntry(STORAGE_ENV, 1, W2, 6))), 'stale');
        strictEqual(store.calls.write, writes, 'no-ops at a lower index, or without one, write nothing');
        await unchanged(store, a, before, 'no-ops at a lower index, or without one');
        strictEqual(a.state.storageEnvelopeCutoverIndex, 13n, 'the cutover index is the first cutover’s');
      });
      strictEqual(await rowOf(store, 3, W2), undefined, 'a no-op cutover registers no proposer');
    },
  },
  {
    group,
    name: 'raft envelope › enables with the cutover at the raft index, registers the proposer and calls onRaftKeyInstalled(index, dek)',
    async run(ctx) {
      const kek = newKek();
      const store = new FaultyStore(await ctx.open());
      const rec = recorder();
      await withBootstrapped(
        store,
        kek,
        async (a) => {
          const writes = store.calls.write;
          deepStrictEqual(kindAndEffect(await a.applyEntry(cutoverEntry(RAFT_ENV, 2, W3, 3), 20n)), {
            kind: 'rotation',
            effect: 'enabled',
          });
          strictEqual(store.calls.write - writes, 1, 'a cutover commits with exactly one write');
          strictEqual(a.state.raftEnvelopeCutoverIndex, 20n);
          strictEqual(a.state.raftAppliedIndex, 20n);
          strictEqual(a.state.storageEnvelopeActive, false, 'the storage envelope is not touched');
          deepStrictEqual(rec.calls, ['20:2']);
          await storedStateIsHeld(store, a, 'after the raft cutover');
        },
        rec.options,
      );
      deepStrictEqual(await rowOf(store, 2, W3), { fullNodeId: W3, firstSeenEpoch: 1, lastSeenEpoch: 3 });
    },
  },
  {
    group,
    name: 'raft envelope › a wrapped DEK, the storage purpose, or a zero or missing raft index halts with ERR_ENTRY_INVALID and changes nothing',
    async run(ctx) {
      const kek = newKek();
      const store = await ctx.open();
      const rec = recorder();
      await withBootstrapped(
        store,
        kek,
        async (a) => {
          await haltsAndChangesNothing(
            store,
            a,
            cutoverEntry(RAFT_ENV, 2, W1, 2, { wrapped: await wrapNewDek(kek) }),
            11n,
            ErrorCode.ENTRY_INVALID,
            'raft cutover with a DEK',
          );
          await haltsAndChangesNothing(
            store,
            a,
            cutoverEntry(RAFT_ENV, 2, W1, 2, { purpose: Purpose.STORAGE }),
            11n,
            ErrorCode.ENTRY_INVALID,
            'raft cutover with the storage purpose',
          );
          await haltsAndChangesNothing(store, a, cutoverEntry(RAFT_ENV, 2, W1, 2), 0n, ErrorCode.ENTRY_INVALID, 'raft cutover at index 0');
          await haltsAndChangesNothing(
            store,
            a,
            cutoverEntry(RAFT_ENV, 2, W1, 2),
            undefined,
            ErrorCode.ENTRY_INVALID,
            'raft cutover without an index',
          );
          deepStrictEqual(rec.calls, [], 'onRaftKeyInstalled is not called for a refused entry');
        },
        rec.options,
      );
    },
  },
  {
    group,
    name: 'raft envelope › a stale DEK only raises the applied index and does not call onRaftKeyInstalled',
    async run(ctx) {
      const kek = newKek();
      const store = await ctx.open();
      const rec = recorder();
      await withBootstrapped(
        store,
        kek,
        async (a) => {
          await a.applyEntry(rotateDekEntry(3, Purpose.RAFT, await wrapNewDek(kek), W1, 2), 11n);
          const before = await observe(store, a);
          deepStrictEqual(kindAndEffect(await a.applyEntry(cutoverEntry(RAFT_ENV, 2, W2, 5), 12n)), { kind: 'rotation', effect: 'stale' });
          await onlyIndexRaised(store, a, before, 12n, 'a cutover naming retired raft DEK 2');
          deepStrictEqual(rec.calls, []);
        },
        rec.options,
      );
    },
  },
  {
    group,
    name: 'raft envelope › once cut over, a replay raises the index and calls onRaftKeyInstalled(stored cutover, current raft key)',
    async run(ctx) {
      const kek = newKek();
      const store = await ctx.open();
      const rec = recorder();
      const cutover = cutoverEntry(RAFT_ENV, 2, W3, 3);
      await withBootstrapped(
        store,
        kek,
        async (a) => {
          await a.applyEntry(cutover, 20n);
          let before = await observe(store, a);
          deepStrictEqual(kindAndEffect(await a.applyEntry(cutover, 21n)), { kind: 'rotation', effect: 'already-enabled' });
          await onlyIndexRaised(store, a, before, 21n, 'a replayed cutover');
          await a.applyEntry(rotateDekEntry(3, Purpose.RAFT, await wrapNewDek(kek), W1, 2), 22n);
          before = await observe(store, a);
          // A re-delivery at or below the applied index changes nothing and calls nothing.
          deepStrictEqual(effectOf(await a.applyEntry(cutover, 20n)), 'already-applied');
          await unchanged(store, a, before, 'a replayed cutover at a lower index');
          // The replay names the retired raft DEK 2; the callback gets the key in effect now.
          deepStrictEqual(effectOf(await a.applyEntry(cutover, 23n)), 'already-enabled');
          deepStrictEqual(rec.calls, ['20:2', '20:2', '22:3', '20:3']);
        },
        rec.options,
      );
      // The replayed cutover registered no one: W3 stays at the epoch of the first cutover.
      deepStrictEqual(await rowOf(store, 2, W3), { fullNodeId: W3, firstSeenEpoch: 1, lastSeenEpoch: 3 });
    },
  },
  {
    group,
    name: 'rotate DEK › a raft rotation calls onRaftKeyInstalled(index, dek) once the raft envelope is cut over, and not before',
    async run(ctx) {
      const kek = newKek();
      const store = await ctx.open();
      const rec = recorder();
      await withBootstrapped(
        store,
        kek,
        async (a) => {
          await a.applyEntry(rotateDekEntry(3, Purpose.RAFT, await wrapNewDek(kek), W1, 2), 11n);
          deepStrictEqual(rec.calls, [], 'no raft key takes effect before the cutover');
          await a.applyEntry(cutoverEntry(RAFT_ENV, 3, W1, 2), 12n);
          await a.applyEntry(rotateDekEntry(4, Purpose.STORAGE, await wrapNewDek(kek), W1, 3), 13n);
          await a.applyEntry(rotateDekEntry(5, Purpose.RAFT, await wrapNewDek(kek), W2, 2), 14n);
          deepStrictEqual(rec.calls, ['12:3', '14:5'], 'a storage rotation never calls it');
        },
        rec.options,
      );
    },
  },
  {
    group,
    name: 'raft envelope › a failing onRaftKeyInstalled halts and changes nothing, for a cutover, its replay and a raft rotation',
    async run(ctx) {
      const kek = newKek();
      const store = await ctx.open();
      let fail = true;
      const options: ApplierOptions = {
        onRaftKeyInstalled: () => {
          if (fail) throw new Error('host could not install the raft key');
        },
      };
      await withBootstrapped(
        store,
        kek,
        async (a) => {
          const cutover = cutoverEntry(RAFT_ENV, 2, W3, 3);
          const before = await observe(store, a);
          const err = await rejectsWithCode(a.applyEntry(cutover, 20n), ErrorCode.ENCRYPTION_APPLY, 'a cutover whose callback throws');
          ok(isHalt(err));
          await unchanged(store, a, before, 'a cutover whose callback throws');
          fail = false;
          await a.applyEntry(cutover, 20n);
          fail = true;
          const rotation = rotateDekEntry(3, Purpose.RAFT, await wrapNewDek(kek), W1, 2);
          for (const [what, entry] of [
            ['a replayed cutover', cutover],
            ['a raft rotation', rotation],
          ] as const) {
            const held = await observe(store, a);
            ok(isHalt(await rejectsWithCode(a.applyEntry(entry, 21n), ErrorCode.ENCRYPTION_APPLY, what)));
            await unchanged(store, a, held, `${what} whose callback throws`);
          }
        },
        options,
      );
    },
  },
  {
    group,
    name: 'group commit › a bootstrap, rotations and cutovers in one applyEntries commit in one write; a halt keeps the entries before it',
    async run(ctx) {
      const kek = newKek();
      const store = new FaultyStore(await ctx.open());
      const rec = recorder();
      const boot = encodeBootstrap(await newBootstrap(kek));
      await withKeyedApplier(
        store,
        kek,
        async (a) => {
          const writes = store.calls.write;
          const results = await a.applyEntries([
            { entry: boot, index: 1n },
            { entry: rotateDekEntry(3, Purpose.STORAGE, await wrapNewDek(kek), W1, 2), index: 2n },
            { entry: cutoverEntry(STORAGE_ENV, 3, W2, 2), index: 3n },
            { entry: cutoverEntry(RAFT_ENV, 2, W3, 2), index: 4n },
            { entry: regEntry(3, W3, 1), index: 5n },
          ]);
          deepStrictEqual(results.map(effectOf), ['bootstrapped', 'rotated', 'enabled', 'enabled', 'inserted']);
          strictEqual(store.calls.write - writes, 1, 'the group commits with exactly one write');
          deepStrictEqual(a.keyIds(), [1, 2, 3]);
          const rowsBefore = await scanAll(store, REGISTRY_PREFIX);
          const err = await rejectsWithCode(
            a.applyEntries([
              { entry: rotateDekEntry(4, Purpose.RAFT, await wrapNewDek(kek), W1, 2), index: 6n },
              { entry: rotateDekEntry(5, Purpose.STORAGE, await wrapNewDek(newKek()), W1, 2), index: 7n },
              { entry: regEntry(3, W3, 9), index: 8n },
            ]),
            ErrorCode.KEK_MISMATCH,
            'a group whose second rotation cannot be unwrapped',
          );
          strictEqual((err as { position?: number }).position, 1);
          deepStrictEqual(a.keyIds(), [1, 2, 3, 4], 'the rotation before the halt is installed; the halted one is not');
          strictEqual(a.state.raftAppliedIndex, 6n);
          deepStrictEqual(a.state.active, { storage: 3, raft: 4 });
          const rowsAfter = await scanAll(store, REGISTRY_PREFIX);
          strictEqual(rowsAfter.length, rowsBefore.length + 1, 'only the committed rotation’s proposer row is added');
          deepStrictEqual(rec.calls, ['4:2', '6:4']);
          await storedStateIsHeld(store, a, 'after the halted group');
        },
        rec.options,
      );
      deepStrictEqual(
        await rowOf(store, 3, W3),
        { fullNodeId: W3, firstSeenEpoch: 1, lastSeenEpoch: 1 },
        'the registration after the halt is not applied',
      );
    },
  },
];
