import { describe, expect, it } from 'vitest';
import { FaultyStore } from '../../src/conformance/faulty-store.js';
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
  wrapNewDek,
  effectOf,
} from '../support/applier.js';
import {
  Applier,
  ErrorCode,
  MemoryRegistryStore,
  Purpose,
  RotationSubtag,
  encodeBootstrap,
  encodeState,
  hasCode,
  isHalt,
  type ApplierOptions,
  type FileKek,
} from '../../src/index.js';

const STORAGE_ENV = RotationSubtag.ENABLE_STORAGE_ENVELOPE;
const RAFT_ENV = RotationSubtag.ENABLE_RAFT_ENVELOPE;

interface Setup {
  kek: FileKek;
  store: FaultyStore;
  applier: Applier;
  /** onRaftKeyInstalled calls as `cutover:dek`. */
  installed: string[];
}

/**
 * A memory store with an applier over `kek`; `bootstrapped` applies storage DEK 1 / raft DEK 2 at
 * index 10 (wrapped with `kek`, whatever unwrapper `options.kek` puts in front of it).
 */
async function setup(bootstrapped = true, options: ApplierOptions = {}, kek = newKek()): Promise<Setup> {
  const store = new FaultyStore(new MemoryRegistryStore());
  const installed: string[] = [];
  const applier = await Applier.open(store, {
    kek,
    now: () => FIXED_NOW,
    onRaftKeyInstalled: (cutover, dek) => void installed.push(`${cutover}:${dek}`),
    ...options,
  });
  if (bootstrapped) await applier.applyEntry(encodeBootstrap(await newBootstrap(kek)), 10n);
  return { kek, store, applier, installed };
}

describe('rotation', () => {
  it.each([
    ['rotate DEK', (k: FileKek) => k.wrap(new Uint8Array(32)).then((w) => rotateDekEntry(1, Purpose.STORAGE, w, W1, 1))],
    ['enable storage envelope', async () => cutoverEntry(STORAGE_ENV, 1, W1, 1)],
    ['enable raft envelope', async () => cutoverEntry(RAFT_ENV, 2, W1, 1)],
  ] as const)('rotation › %s before bootstrap halts with ERR_NOT_BOOTSTRAPPED and changes nothing', async (_, make) => {
    const { kek, store, applier } = await setup(false);
    await haltsAndChangesNothing(store, applier, await make(kek), 1n, ErrorCode.NOT_BOOTSTRAPPED, 'before bootstrap');
    expect(store.calls.write).toBe(0);
  });

  it('rotation › without a KEK every subtag halts with ERR_KEK_NOT_CONFIGURED and changes nothing', async () => {
    const { kek, store, applier } = await setup();
    await applier.close();
    const bare = await Applier.open(store);
    for (const entry of [
      rotateDekEntry(3, Purpose.STORAGE, await wrapNewDek(kek), W1, 2),
      cutoverEntry(STORAGE_ENV, 1, W1, 2),
      cutoverEntry(RAFT_ENV, 2, W1, 2),
    ]) {
      await haltsAndChangesNothing(store, bare, entry, 11n, ErrorCode.KEK_NOT_CONFIGURED, 'no KEK');
    }
  });

  it('rotate DEK › installs the key, makes it active for its purpose, keeps old keys and registers the proposer in one write', async () => {
    const { kek, store, applier } = await setup();
    const wrapped = await wrapNewDek(kek);
    const writes = store.calls.write;
    await expect(applier.applyEntry(rotateDekEntry(3, Purpose.RAFT, wrapped, W2, 6), 11n)).resolves.toMatchObject({
      kind: 'rotation',
      effect: 'rotated',
    });
    expect(store.calls.write - writes).toBe(1);
    expect(applier.state.active).toEqual({ storage: 1, raft: 3 });
    expect([...applier.state.keys.keys()]).toEqual([1, 2, 3]);
    expect(applier.state.keys.get(3)).toEqual({ purpose: 'raft', wrapped, created: FIXED_NOW.toISOString(), localEpoch: 6 });
    expect(applier.state.raftAppliedIndex).toBe(11n);
    expect(applier.keyIds()).toEqual([1, 2, 3]);
    expect(await rowOf(store, 3, W2)).toEqual({ fullNodeId: W2, firstSeenEpoch: 6, lastSeenEpoch: 6 });
    await storedStateIsHeld(store, applier, 'after rotation');
  });

  it('rotate DEK › a proposer DEK other than the entry DEK halts with ERR_ENTRY_INVALID before anything is unwrapped', async () => {
    let unwraps = 0;
    const inner = newKek();
    const unwrap = (w: Uint8Array) => {
      unwraps++;
      return inner.unwrap(w);
    };
    const { store, applier } = await setup(true, { kek: { unwrap } }, inner);
    const before = unwraps;
    await haltsAndChangesNothing(
      store,
      applier,
      rotateDekEntry(3, Purpose.STORAGE, await wrapNewDek(inner), W1, 2, 4),
      11n,
      ErrorCode.ENTRY_INVALID,
      'proposer under DEK 4',
    );
    expect(unwraps).toBe(before);
  });

  it('rotate DEK › an empty wrapped DEK halts with ERR_ENTRY_INVALID', async () => {
    const { store, applier } = await setup();
    await haltsAndChangesNothing(
      store,
      applier,
      rotateDekEntry(3, Purpose.STORAGE, new Uint8Array(0), W1, 2),
      11n,
      ErrorCode.ENTRY_INVALID,
      'no DEK',
    );
  });

  it('rotate DEK › a KEK unwrap failure halts with ERR_KEK_MISMATCH and changes nothing', async () => {
    const { kek, store, applier } = await setup();
    await haltsAndChangesNothing(
      store,
      applier,
      rotateDekEntry(3, Purpose.STORAGE, tampered(await wrapNewDek(kek)), W1, 2),
      11n,
      ErrorCode.KEK_MISMATCH,
      'tampered',
    );
    await haltsAndChangesNothing(
      store,
      applier,
      rotateDekEntry(3, Purpose.STORAGE, await wrapNewDek(newKek()), W1, 2),
      11n,
      ErrorCode.KEK_MISMATCH,
      'other KEK',
    );
  });

  it('rotate DEK › the unwrapped DEK is zero-filled once the keystore holds its copy, and after a halt', async () => {
    const inner = newKek();
    const handed: Uint8Array[] = [];
    const unwrap = async (w: Uint8Array) => {
      const dek = await inner.unwrap(w);
      handed.push(dek);
      return dek;
    };
    const { store, applier } = await setup(true, { kek: { unwrap } }, inner);
    await applier.applyEntry(regEntry(4, W1, 9), 11n);
    await applier.applyEntry(rotateDekEntry(3, Purpose.STORAGE, await wrapNewDek(inner), W1, 2), 12n);
    await haltsAndChangesNothing(
      store,
      applier,
      rotateDekEntry(4, Purpose.STORAGE, await wrapNewDek(inner), W1, 1),
      13n,
      ErrorCode.LOCAL_EPOCH_ROLLBACK,
      'rollback',
    );
    expect(handed.length).toBeGreaterThanOrEqual(4);
    for (const dek of handed) expect(dek.every((x) => x === 0)).toBe(true);
  });

  it.each([
    ['a slot collision', W1_TWIN, 9, ErrorCode.NODE_ID_COLLISION],
    ['an epoch rollback', W1, 4, ErrorCode.LOCAL_EPOCH_ROLLBACK],
  ] as const)(
    'rotate DEK › %s in the proposer registration undoes the rotation: key not installed, not active, no row',
    async (_, node, epoch, code) => {
      const { kek, store, applier } = await setup();
      await applier.applyEntry(regEntry(3, W1, 5), 11n);
      await haltsAndChangesNothing(
        store,
        applier,
        rotateDekEntry(3, Purpose.STORAGE, await wrapNewDek(kek), node, epoch),
        12n,
        code,
        'proposer halt',
      );
      expect(applier.keyIds()).toEqual([1, 2]);
    },
  );

  it('rotate DEK › a replay only raises the applied index and does not re-activate a retired key', async () => {
    const { kek, store, applier } = await setup();
    const entry = rotateDekEntry(3, Purpose.STORAGE, await wrapNewDek(kek), W1, 2);
    await applier.applyEntry(entry, 11n);
    await applier.applyEntry(rotateDekEntry(4, Purpose.STORAGE, await wrapNewDek(kek), W1, 3), 12n);
    const before = await observe(store, applier);
    await expect(applier.applyEntry(entry, 13n)).resolves.toMatchObject({ kind: 'rotation', effect: 'replayed' });
    await onlyIndexRaised(store, applier, before, 13n, 'replay');
    expect(applier.state.active.storage).toBe(4);
  });

  it('rotate DEK › a held id with other wrapped bytes or another purpose halts with ERR_KEY_CONFLICT', async () => {
    const { kek, store, applier } = await setup();
    const wrapped = await wrapNewDek(kek);
    await applier.applyEntry(rotateDekEntry(3, Purpose.STORAGE, wrapped, W1, 2), 11n);
    await haltsAndChangesNothing(
      store,
      applier,
      rotateDekEntry(3, Purpose.STORAGE, await wrapNewDek(kek), W1, 3),
      12n,
      ErrorCode.KEY_CONFLICT,
      'other bytes',
    );
    await haltsAndChangesNothing(
      store,
      applier,
      rotateDekEntry(3, Purpose.RAFT, wrapped, W1, 3),
      12n,
      ErrorCode.KEY_CONFLICT,
      'other purpose',
    );
  });

  it('rotate DEK › a storage rotation never calls onRaftKeyInstalled; a raft rotation calls it only once cut over, with its own index', async () => {
    const { kek, applier, installed } = await setup();
    await applier.applyEntry(rotateDekEntry(3, Purpose.RAFT, await wrapNewDek(kek), W1, 2), 11n);
    await applier.applyEntry(rotateDekEntry(4, Purpose.STORAGE, await wrapNewDek(kek), W1, 2), 12n);
    expect(installed).toEqual([]);
    await applier.applyEntry(cutoverEntry(RAFT_ENV, 3, W2, 2), 13n);
    await applier.applyEntry(rotateDekEntry(5, Purpose.STORAGE, await wrapNewDek(kek), W1, 3), 14n);
    await applier.applyEntry(rotateDekEntry(6, Purpose.RAFT, await wrapNewDek(kek), W1, 3), 15n);
    expect(installed).toEqual(['13:3', '15:6']);
    expect(applier.state.raftEnvelopeCutoverIndex).toBe(13n);
  });

  it('storage envelope › enables with cutover = raft index and registers the proposer in one write', async () => {
    const { store, applier, installed } = await setup();
    const writes = store.calls.write;
    await expect(applier.applyEntry(cutoverEntry(STORAGE_ENV, 1, W3, 2), 20n)).resolves.toMatchObject({
      kind: 'rotation',
      effect: 'enabled',
    });
    expect(store.calls.write - writes).toBe(1);
    expect(applier.state).toMatchObject({
      storageEnvelopeActive: true,
      storageEnvelopeCutoverIndex: 20n,
      raftAppliedIndex: 20n,
      raftEnvelopeCutoverIndex: 0n,
    });
    expect(await rowOf(store, 1, W3)).toEqual({ fullNodeId: W3, firstSeenEpoch: 1, lastSeenEpoch: 2 });
    expect(installed).toEqual([]);
  });

  it.each([
    ['non-empty wrapped', { wrapped: new Uint8Array(60) }],
    ['the raft purpose', { purpose: Purpose.RAFT }],
    ['a proposer under another DEK', { proposer: { dekId: 2, fullNodeId: W1, localEpoch: 2 } }],
  ] as const)('storage envelope › %s halts with ERR_ENTRY_INVALID and changes nothing', async (_, patch) => {
    const { store, applier } = await setup();
    await haltsAndChangesNothing(store, applier, cutoverEntry(STORAGE_ENV, 1, W1, 2, patch), 20n, ErrorCode.ENTRY_INVALID, 'bad cutover');
  });

  it('storage envelope › a stale DEK only raises the applied index (no proposer row)', async () => {
    const { kek, store, applier } = await setup();
    await applier.applyEntry(rotateDekEntry(3, Purpose.STORAGE, await wrapNewDek(kek), W1, 2), 11n);
    const before = await observe(store, applier);
    await expect(applier.applyEntry(cutoverEntry(STORAGE_ENV, 1, W2, 7), 12n)).resolves.toMatchObject({
      kind: 'rotation',
      effect: 'stale',
    });
    await onlyIndexRaised(store, applier, before, 12n, 'stale');
    expect(applier.state.storageEnvelopeActive).toBe(false);
  });

  it('storage envelope › an already-enabled envelope only raises the applied index and keeps the first cutover index', async () => {
    const { store, applier } = await setup();
    await applier.applyEntry(cutoverEntry(STORAGE_ENV, 1, W1, 2), 11n);
    const before = await observe(store, applier);
    await expect(applier.applyEntry(cutoverEntry(STORAGE_ENV, 1, W2, 7), 12n)).resolves.toMatchObject({
      kind: 'rotation',
      effect: 'already-enabled',
    });
    await onlyIndexRaised(store, applier, before, 12n, 'already enabled');
    expect(applier.state.storageEnvelopeCutoverIndex).toBe(11n);
  });

  it('raft envelope › enables with cutover = raft index, registers the proposer and calls onRaftKeyInstalled(index, dek)', async () => {
    const { store, applier, installed } = await setup();
    await expect(applier.applyEntry(cutoverEntry(RAFT_ENV, 2, W2, 3), 30n)).resolves.toMatchObject({ kind: 'rotation', effect: 'enabled' });
    expect(applier.state).toMatchObject({ raftEnvelopeCutoverIndex: 30n, raftAppliedIndex: 30n, storageEnvelopeActive: false });
    expect(installed).toEqual(['30:2']);
    expect(await rowOf(store, 2, W2)).toEqual({ fullNodeId: W2, firstSeenEpoch: 1, lastSeenEpoch: 3 });
  });

  it.each([
    ['a zero raft index', {}, 0n],
    ['no raft index', {}, undefined],
    ['non-empty wrapped', { wrapped: new Uint8Array(60) }, 30n],
    ['the storage purpose', { purpose: Purpose.STORAGE }, 30n],
    ['a proposer under another DEK', { proposer: { dekId: 1, fullNodeId: W1, localEpoch: 2 } }, 30n],
  ] as const)('raft envelope › %s halts with ERR_ENTRY_INVALID, changes nothing and calls nothing', async (_, patch, index) => {
    const { store, applier, installed } = await setup();
    await haltsAndChangesNothing(store, applier, cutoverEntry(RAFT_ENV, 2, W1, 2, patch), index, ErrorCode.ENTRY_INVALID, 'bad cutover');
    expect(installed).toEqual([]);
  });

  it('raft envelope › a stale DEK only raises the applied index and does not call onRaftKeyInstalled', async () => {
    const { kek, store, applier, installed } = await setup();
    await applier.applyEntry(rotateDekEntry(3, Purpose.RAFT, await wrapNewDek(kek), W1, 2), 11n);
    const before = await observe(store, applier);
    await expect(applier.applyEntry(cutoverEntry(RAFT_ENV, 2, W1, 2), 12n)).resolves.toMatchObject({ kind: 'rotation', effect: 'stale' });
    await onlyIndexRaised(store, applier, before, 12n, 'stale');
    expect(installed).toEqual([]);
  });

  it('raft envelope › an already-cut-over replay raises the index and calls onRaftKeyInstalled(stored cutover, current raft key)', async () => {
    const { kek, store, applier, installed } = await setup();
    const cutover = cutoverEntry(RAFT_ENV, 2, W1, 2);
    await applier.applyEntry(cutover, 30n);
    await applier.applyEntry(rotateDekEntry(3, Purpose.RAFT, await wrapNewDek(kek), W1, 3), 31n);
    const before = await observe(store, applier);
    await expect(applier.applyEntry(cutover, 32n)).resolves.toMatchObject({ kind: 'rotation', effect: 'already-enabled' });
    await onlyIndexRaised(store, applier, before, 32n, 'replay');
    expect(installed).toEqual(['30:2', '31:3', '30:3']);
  });

  it('raft envelope › a failing onRaftKeyInstalled halts with its error as cause and changes nothing', async () => {
    const failure = new Error('raft layer refused the key');
    const { store, applier } = await setup(true, { onRaftKeyInstalled: () => Promise.reject(failure) });
    const before = await observe(store, applier);
    const err = await applier.applyEntry(cutoverEntry(RAFT_ENV, 2, W1, 2), 30n).catch((e: unknown) => e);
    expect(isHalt(err)).toBe(true);
    expect((err as Error).cause).toBe(failure);
    await unchanged(store, applier, before, 'callback failure');
  });

  it('raft envelope › a failing callback on a replay or a raft rotation once cut over halts and changes nothing', async () => {
    let fail = false;
    const { kek, store, applier } = await setup(true, {
      onRaftKeyInstalled: () => {
        if (fail) throw new Error('no');
      },
    });
    const cutover = cutoverEntry(RAFT_ENV, 2, W1, 2);
    await applier.applyEntry(cutover, 30n);
    fail = true;
    for (const entry of [cutover, rotateDekEntry(3, Purpose.RAFT, await wrapNewDek(kek), W1, 3)]) {
      await haltsAndChangesNothing(store, applier, entry, 31n, ErrorCode.ENCRYPTION_APPLY, 'callback failure');
    }
    expect(applier.keyIds()).toEqual([1, 2]);
  });

  it('rotation › entries at or below the applied index are already applied: nothing moves back, nothing is enabled late', async () => {
    const { kek, store, applier } = await setup();
    await applier.applyEntry(rotateDekEntry(3, Purpose.STORAGE, await wrapNewDek(kek), W1, 2), 100n);
    const before = encodeState(applier.state);
    for (const [entry, index] of [
      [rotateDekEntry(4, Purpose.RAFT, await wrapNewDek(kek), W1, 2), 50n],
      [cutoverEntry(STORAGE_ENV, 3, W2, 2), 60n],
      [cutoverEntry(RAFT_ENV, 2, W2, 2), 70n],
      [cutoverEntry(RAFT_ENV, 2, W2, 2), 100n],
    ] as const) {
      await expect(applier.applyEntry(entry, index)).resolves.toEqual({ kind: 'already-applied', index });
    }
    expect(encodeState(applier.state)).toEqual(before);
    expect(applier.state.raftAppliedIndex).toBe(100n);
    expect(applier.appliedIndex).toBe(100n);
    await storedStateIsHeld(store, applier, 'after out-of-order indices');
  });

  it.each([
    ['rotate DEK', async (k: FileKek) => rotateDekEntry(3, Purpose.STORAGE, await wrapNewDek(k), W1, 2)],
    ['enable storage envelope', async () => cutoverEntry(STORAGE_ENV, 1, W1, 2)],
    ['enable raft envelope', async () => cutoverEntry(RAFT_ENV, 2, W1, 2)],
  ] as const)('rotation › %s over a failing write halts with ERR_STORE_IO, changes nothing, and applies on retry', async (_, make) => {
    const { kek, store, applier, installed } = await setup();
    const entry = await make(kek);
    store.plan = { operation: 'write', nth: store.calls.write + 1, mode: 'once' };
    await haltsAndChangesNothing(store, applier, entry, 11n, ErrorCode.STORE_IO, 'failing write');
    const result = await applier.applyEntry(entry, 11n);
    expect(['rotated', 'enabled']).toContain(effectOf(result));
    await storedStateIsHeld(store, applier, 'after the retry');
    // The callback ran for the failed attempt too: it runs before the write, so it must be idempotent.
    expect(installed).toEqual(_ === 'enable raft envelope' ? ['11:2', '11:2'] : []);
  });

  it('rotation › a rotation halt is reported with its raft index and, in a group, its position', async () => {
    const { kek, applier } = await setup();
    const err = await applier
      .applyEntries([
        { entry: rotateDekEntry(3, Purpose.STORAGE, await wrapNewDek(kek), W1, 2), index: 11n },
        { entry: rotateDekEntry(4, Purpose.STORAGE, await wrapNewDek(newKek()), W1, 2), index: 12n },
      ])
      .catch((e: unknown) => e);
    expect(hasCode(err, ErrorCode.KEK_MISMATCH)).toBe(true);
    expect(err).toMatchObject({ index: 12n, position: 1 });
    expect(applier.keyIds()).toEqual([1, 2, 3]);
  });
});
