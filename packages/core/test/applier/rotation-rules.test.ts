import { describe, expect, it } from 'vitest';
import type { Applier } from '../../src/applier/applier.js';
import type { ApplierOptions } from '../../src/applier/applier-options.js';
import { encodeBootstrap } from '../../src/codec/bootstrap.js';
import { REGISTRY_PREFIX } from '../../src/codec/registry-key.js';
import { Purpose, RotationSubtag } from '../../src/codec/rotation.js';
import { FaultyStore } from '../../src/conformance/faulty-store.js';
import type { FileKek } from '../../src/crypto/file-kek.js';
import { ErrorCode, hasCode } from '../../src/errors.js';
import { MemoryRegistryStore } from '../../src/store/memory-registry-store.js';
import {
  W1,
  W1_TWIN,
  W2,
  W3,
  cutoverEntry,
  haltsAndChangesNothing,
  newBootstrap,
  newKek,
  regEntry,
  rotateDekEntry,
  rowOf,
  scanAll,
  storedStateIsHeld,
  withKeyedApplier,
  wrapNewDek,
  effectOf,
} from '../support/applier.js';

// Rotation rules that do not depend on the backend, moved here from the conformance suite
// (which keeps one bootstrap/rotation round trip through the backend under test).

const STORAGE_ENV = RotationSubtag.ENABLE_STORAGE_ENVELOPE;
const RAFT_ENV = RotationSubtag.ENABLE_RAFT_ENVELOPE;

async function bootstrapped<T>(kek: FileKek, fn: (a: Applier, store: FaultyStore) => Promise<T>, options: ApplierOptions = {}): Promise<T> {
  const store = new FaultyStore(new MemoryRegistryStore());
  return withKeyedApplier(
    store,
    kek,
    async (a) => {
      await a.applyEntry(encodeBootstrap(await newBootstrap(kek)), 10n);
      return fn(a, store);
    },
    options,
  );
}

describe('rotation rules', () => {
  it('rotation › before any bootstrap every subtag halts with ERR_NOT_BOOTSTRAPPED and changes nothing', async () => {
    const kek = newKek();
    const store = new MemoryRegistryStore();
    await withKeyedApplier(store, kek, async (a) => {
      await a.applyEntry(regEntry(1, W1, 1), 1n);
      for (const [what, entry] of [
        ['rotate DEK', rotateDekEntry(1, Purpose.STORAGE, await wrapNewDek(kek), W1, 1)],
        ['enable storage envelope', cutoverEntry(STORAGE_ENV, 1, W1, 1)],
        ['enable raft envelope', cutoverEntry(RAFT_ENV, 2, W1, 1)],
      ] as const) {
        await haltsAndChangesNothing(store, a, entry, 2n, ErrorCode.NOT_BOOTSTRAPPED, what);
      }
    });
  });

  it('rotation › a cutover whose proposer registers under another DEK halts with ERR_ENTRY_INVALID and changes nothing', async () => {
    await bootstrapped(newKek(), async (a, store) => {
      const storage = cutoverEntry(STORAGE_ENV, 1, W1, 2, { proposer: { dekId: 2, fullNodeId: W1, localEpoch: 2 } });
      await haltsAndChangesNothing(store, a, storage, 11n, ErrorCode.ENTRY_INVALID, 'storage cutover, proposer under 2');
      const raft = cutoverEntry(RAFT_ENV, 2, W1, 2, { proposer: { dekId: 1, fullNodeId: W1, localEpoch: 2 } });
      await haltsAndChangesNothing(store, a, raft, 11n, ErrorCode.ENTRY_INVALID, 'raft cutover, proposer under 1');
    });
  });

  it('rotate DEK › a proposer registration that halts leaves the key uninstalled and nothing written', async () => {
    const kek = newKek();
    await bootstrapped(kek, async (a, store) => {
      // Slot 1 of DEK 3 already belongs to W1, and W1 is at epoch 5 there.
      await a.applyEntry(regEntry(3, W1, 5), 11n);
      const collision = rotateDekEntry(3, Purpose.STORAGE, await wrapNewDek(kek), W1_TWIN, 9);
      await haltsAndChangesNothing(store, a, collision, 12n, ErrorCode.NODE_ID_COLLISION, 'proposer on an owned slot');
      const rollback = rotateDekEntry(3, Purpose.STORAGE, await wrapNewDek(kek), W1, 4);
      await haltsAndChangesNothing(store, a, rollback, 12n, ErrorCode.LOCAL_EPOCH_ROLLBACK, 'proposer epoch going back');
      expect(a.keyIds()).toEqual([1, 2]);
    });
  });

  it('rotate DEK › a failing write halts with ERR_STORE_IO, changes nothing, and the entry applies on retry', async () => {
    const kek = newKek();
    const entry = rotateDekEntry(3, Purpose.RAFT, await wrapNewDek(kek), W2, 3);
    await bootstrapped(kek, async (a, store) => {
      store.plan = { operation: 'write', nth: store.calls.write + 1, mode: 'once' };
      await haltsAndChangesNothing(store, a, entry, 11n, ErrorCode.STORE_IO, 'rotation over a failing write');
      expect(effectOf(await a.applyEntry(entry, 11n))).toBe('rotated');
      expect(a.keyIds()).toEqual([1, 2, 3]);
      await storedStateIsHeld(store, a, 'after the retry');
    });
  });

  it('storage envelope › a wrapped DEK or the raft purpose halts with ERR_ENTRY_INVALID and changes nothing', async () => {
    const kek = newKek();
    await bootstrapped(kek, async (a, store) => {
      for (const [what, entry] of [
        ['with a DEK', cutoverEntry(STORAGE_ENV, 1, W1, 2, { wrapped: await wrapNewDek(kek) })],
        ['with the raft purpose', cutoverEntry(STORAGE_ENV, 1, W1, 2, { purpose: Purpose.RAFT })],
      ] as const) {
        await haltsAndChangesNothing(store, a, entry, 11n, ErrorCode.ENTRY_INVALID, `storage cutover ${what}`);
      }
    });
  });

  it('raft envelope › a wrapped DEK, the storage purpose, or a zero or missing raft index halts with ERR_ENTRY_INVALID', async () => {
    const kek = newKek();
    const calls: string[] = [];
    await bootstrapped(
      kek,
      async (a, store) => {
        for (const [what, entry, index] of [
          ['with a DEK', cutoverEntry(RAFT_ENV, 2, W1, 2, { wrapped: await wrapNewDek(kek) }), 11n],
          ['with the storage purpose', cutoverEntry(RAFT_ENV, 2, W1, 2, { purpose: Purpose.STORAGE }), 11n],
          ['at index 0', cutoverEntry(RAFT_ENV, 2, W1, 2), 0n],
          ['without an index', cutoverEntry(RAFT_ENV, 2, W1, 2), undefined],
        ] as const) {
          await haltsAndChangesNothing(store, a, entry, index, ErrorCode.ENTRY_INVALID, `raft cutover ${what}`);
        }
      },
      { onRaftKeyInstalled: (cutover, dek) => void calls.push(`${cutover}:${dek}`) },
    );
    expect(calls, 'onRaftKeyInstalled is not called for a refused entry').toEqual([]);
  });

  it('group commit › a bootstrap, rotations and cutovers commit in one write; a halt keeps the entries before it', async () => {
    const kek = newKek();
    const store = new FaultyStore(new MemoryRegistryStore());
    const calls: string[] = [];
    await withKeyedApplier(
      store,
      kek,
      async (a) => {
        const results = await a.applyEntries([
          { entry: encodeBootstrap(await newBootstrap(kek)), index: 1n },
          { entry: rotateDekEntry(3, Purpose.STORAGE, await wrapNewDek(kek), W1, 2), index: 2n },
          { entry: cutoverEntry(STORAGE_ENV, 3, W2, 2), index: 3n },
          { entry: cutoverEntry(RAFT_ENV, 2, W3, 2), index: 4n },
          { entry: regEntry(3, W3, 1), index: 5n },
        ]);
        expect(results.map(effectOf)).toEqual(['bootstrapped', 'rotated', 'enabled', 'enabled', 'inserted']);
        expect(store.calls.write, 'the group commits with exactly one write').toBe(1);
        const rowsBefore = await scanAll(store, REGISTRY_PREFIX);
        const err = await a
          .applyEntries([
            { entry: rotateDekEntry(4, Purpose.RAFT, await wrapNewDek(kek), W1, 2), index: 6n },
            { entry: rotateDekEntry(5, Purpose.STORAGE, await wrapNewDek(newKek()), W1, 2), index: 7n },
            { entry: regEntry(3, W3, 9), index: 8n },
          ])
          .catch((e: unknown) => e);
        expect(hasCode(err, ErrorCode.KEK_MISMATCH)).toBe(true);
        expect((err as { position?: number }).position).toBe(1);
        expect(a.keyIds(), 'the rotation before the halt is installed; the halted one is not').toEqual([1, 2, 3, 4]);
        expect(a.state.active).toEqual({ storage: 3, raft: 4 });
        expect((await scanAll(store, REGISTRY_PREFIX)).length, 'only the committed rotation’s proposer row is added').toBe(
          rowsBefore.length + 1,
        );
        expect(calls).toEqual(['4:2', '6:4']);
        await storedStateIsHeld(store, a, 'after the halted group');
      },
      { onRaftKeyInstalled: (cutover, dek) => void calls.push(`${cutover}:${dek}`) },
    );
    expect(await rowOf(store, 3, W3), 'the registration after the halt is not applied').toEqual({
      fullNodeId: W3,
      firstSeenEpoch: 1,
      lastSeenEpoch: 1,
    });
  });
});
