import { describe, expect, it } from 'vitest';
import { FaultyStore } from '../../src/conformance/faulty-store.js';
import {
  FIXED_NOW,
  W1,
  W2,
  cutoverEntry,
  newBootstrap,
  newKek,
  observe,
  regEntry,
  rotateDekEntry,
  unchanged,
  wrapNewDek,
} from '../support/applier.js';
import {
  APPLIED_KEY,
  Applier,
  ErrorCode,
  MemoryRegistryStore,
  Purpose,
  RotationSubtag,
  STATE_KEY,
  bytesEqual,
  decodeAppliedIndex,
  encodeBootstrap,
  hasCode,
  isHalt,
  type RegistryStore,
  type StoreEntry,
} from '../../src/index.js';

// Issue 11.1: Raft re-delivers entries from the host's own applied index after a crash between
// keyledger's durable write and the host's bookkeeping. A re-delivered entry must be recognised,
// change nothing and not halt.

const NODE = 0xbeefn;

/** A memory store that records every write's keys. */
class RecordingStore extends MemoryRegistryStore {
  readonly writes: StoreEntry[][] = [];
  override async write(puts: StoreEntry[]): Promise<void> {
    this.writes.push([...puts]);
    return super.write(puts);
  }
}

async function appliedRecord(store: RegistryStore): Promise<bigint | undefined> {
  const v = await store.get(APPLIED_KEY);
  return v === undefined ? undefined : decodeAppliedIndex(v);
}

describe('re-delivered entries', () => {
  it('the issue sequence: reg epoch 2 at 9, epoch 3 at 10, epoch 2 at 9 again resolves already-applied, not a rollback halt', async () => {
    const store = new MemoryRegistryStore();
    const a = await Applier.open(store);
    await expect(a.applyEntry(regEntry(1, NODE, 2), 9n)).resolves.toMatchObject({ kind: 'registration', effect: 'inserted' });
    await expect(a.applyEntry(regEntry(1, NODE, 3), 10n)).resolves.toMatchObject({ kind: 'registration', effect: 'advanced' });
    const before = await observe(store, a);
    await expect(a.applyEntry(regEntry(1, NODE, 2), 9n)).resolves.toEqual({ kind: 'already-applied', index: 9n });
    await expect(a.applyEntry(regEntry(1, NODE, 3), 10n)).resolves.toEqual({ kind: 'already-applied', index: 10n });
    await unchanged(store, a, before, 'after the re-deliveries');
    expect(a.appliedIndex).toBe(10n);
    await a.close();
  });

  it('across a reopen: the applied index is durable, so a restarted replica recognises the re-delivery', async () => {
    const store = new MemoryRegistryStore();
    const first = await Applier.open(store);
    await first.applyEntry(regEntry(1, NODE, 2), 9n);
    await first.applyEntry(regEntry(1, NODE, 3), 10n);
    await first.close();
    const again = await Applier.open(store);
    expect(again.appliedIndex).toBe(10n);
    for (const [epoch, index] of [
      [2, 9n],
      [3, 10n],
    ] as const) {
      await expect(again.applyEntry(regEntry(1, NODE, epoch), index)).resolves.toEqual({ kind: 'already-applied', index });
    }
    await expect(again.applyEntry(regEntry(1, NODE, 4), 11n)).resolves.toMatchObject({ effect: 'advanced' });
    await again.close();
    expect(await appliedRecord(store)).toBe(11n);
  });

  it('in a group: later entries at or below an index applied earlier in the group are already-applied', async () => {
    const store = new RecordingStore();
    const a = await Applier.open(store);
    const results = await a.applyEntries([
      { entry: regEntry(1, NODE, 2), index: 9n },
      { entry: regEntry(1, NODE, 3), index: 10n },
      { entry: regEntry(1, NODE, 2), index: 9n },
    ]);
    expect(results).toEqual([
      { kind: 'registration', effect: 'inserted', registrations: [{ dekId: 1, fullNodeId: NODE, localEpoch: 2, effect: 'inserted' }] },
      { kind: 'registration', effect: 'advanced', registrations: [{ dekId: 1, fullNodeId: NODE, localEpoch: 3, effect: 'advanced' }] },
      { kind: 'already-applied', index: 9n },
    ]);
    expect(store.writes).toHaveLength(1);
    // A second delivery of the whole group after a restart changes nothing and writes nothing.
    await a.close();
    const again = await Applier.open(store);
    const redelivered = await again.applyEntries([
      { entry: regEntry(1, NODE, 2), index: 9n },
      { entry: regEntry(1, NODE, 3), index: 10n },
    ]);
    expect(redelivered.map((r) => r.kind)).toEqual(['already-applied', 'already-applied']);
    expect(store.writes).toHaveLength(1);
    await again.close();
  });

  it('the applied index rides in the same write as the effects, and a registration does not rewrite the state record', async () => {
    const store = new RecordingStore();
    const a = await Applier.open(store);
    await a.applyEntry(regEntry(1, NODE, 2), 9n);
    expect(store.writes).toHaveLength(1);
    const keys = store.writes[0]!.map((p) => p.key);
    expect(keys.some((k) => bytesEqual(k, APPLIED_KEY))).toBe(true);
    expect(keys.some((k) => bytesEqual(k, STATE_KEY))).toBe(false);
    expect(keys).toHaveLength(2);
    expect(await appliedRecord(store)).toBe(9n);
    await a.close();
  });

  it('a failed write records no applied index: the same entry then applies (it was never applied)', async () => {
    const store = new FaultyStore(new MemoryRegistryStore());
    const a = await Applier.open(store);
    store.plan = { operation: 'write', nth: store.calls.write + 1, mode: 'once' };
    const err = await a.applyEntry(regEntry(1, NODE, 2), 9n).catch((e: unknown) => e);
    expect(isHalt(err) && hasCode(err, ErrorCode.STORE_IO)).toBe(true);
    expect(a.appliedIndex).toBe(0n);
    await expect(a.applyEntry(regEntry(1, NODE, 2), 9n)).resolves.toMatchObject({ effect: 'inserted' });
    await a.close();
  });

  it('entries without an index keep the old rule: an older epoch is a rollback halt', async () => {
    const a = await Applier.open(new MemoryRegistryStore());
    await a.applyEntry(regEntry(1, NODE, 2), 9n);
    await a.applyEntry(regEntry(1, NODE, 3), 10n);
    const err = await a.applyEntry(regEntry(1, NODE, 2)).catch((e: unknown) => e);
    expect(isHalt(err) && hasCode(err, ErrorCode.LOCAL_EPOCH_ROLLBACK)).toBe(true);
    await expect(a.applyEntry(regEntry(1, NODE, 3))).resolves.toMatchObject({ effect: 'replayed' });
    await a.close();
  });

  it('mixed with bootstrap, rotation and cutovers: re-delivering the whole log after a reopen changes nothing', async () => {
    const kek = newKek();
    const store = new MemoryRegistryStore();
    const log: [Uint8Array, bigint][] = [
      [encodeBootstrap(await newBootstrap(kek)), 1n],
      [regEntry(1, W2, 1), 2n],
      [rotateDekEntry(3, Purpose.STORAGE, await wrapNewDek(kek), W1, 2), 3n],
      [regEntry(3, W2, 1), 4n],
      [regEntry(3, W2, 2), 5n],
      [cutoverEntry(RotationSubtag.ENABLE_STORAGE_ENVELOPE, 3, W2, 3), 6n],
      [cutoverEntry(RotationSubtag.ENABLE_RAFT_ENVELOPE, 2, W2, 4), 7n],
    ];
    const installed: string[] = [];
    const options = { kek, now: () => FIXED_NOW, onRaftKeyInstalled: (i: bigint, d: number) => void installed.push(`${i}:${d}`) };
    const first = await Applier.open(store, options);
    for (const [entry, index] of log.slice(0, 5)) await first.applyEntry(entry, index);
    await first.close();
    // The host acknowledged only up to 2: everything from 3 on is re-delivered, then new entries follow.
    const again = await Applier.open(store, options);
    const before = await observe(store, again);
    for (const [entry, index] of log.slice(2, 5))
      await expect(again.applyEntry(entry, index)).resolves.toEqual({ kind: 'already-applied', index });
    await unchanged(store, again, before, 'after re-delivering 3..5');
    const rest = await again.applyEntries(log.slice(2).map(([entry, index]) => ({ entry, index })));
    expect(rest.map((r) => (r.kind === 'already-applied' ? r.kind : r.effect))).toEqual([
      'already-applied',
      'already-applied',
      'already-applied',
      'enabled',
      'enabled',
    ]);
    expect(installed).toEqual(['7:2']);
    expect(again.state.raftAppliedIndex).toBe(7n);
    // And the bootstrap itself, re-delivered at its index, is not a re-bootstrap.
    await expect(again.applyEntry(log[0]![0], 1n)).resolves.toEqual({ kind: 'already-applied', index: 1n });
    await again.close();
  });

  it('index 0n gives no re-delivery protection (Raft starts at 1): it applies as an entry without an index', async () => {
    const a = await Applier.open(new MemoryRegistryStore());
    await expect(a.applyEntry(regEntry(1, NODE, 2), 0n)).resolves.toMatchObject({ effect: 'inserted' });
    await expect(a.applyEntry(regEntry(1, NODE, 2), 0n)).resolves.toMatchObject({ effect: 'replayed' });
    expect(a.appliedIndex).toBe(0n);
    await a.close();
  });

  it('a damaged applied-index record refuses to open with ERR_STATE_MALFORMED (never read as 0)', async () => {
    const store = new MemoryRegistryStore();
    await store.write([{ key: APPLIED_KEY, value: new Uint8Array(7) }]);
    await expect(Applier.open(store)).rejects.toSatisfy((e: unknown) => hasCode(e, ErrorCode.STATE_MALFORMED));
  });
});
