import { describe, expect, it } from 'vitest';
import { FaultyStore } from '../../src/conformance/faulty-store.js';
import {
  FIXED_NOW,
  W1,
  W1_TWIN,
  W2,
  haltsAndChangesNothing,
  newBootstrap,
  newKek,
  observe,
  onlyIndexRaised,
  reg,
  regEntry,
  rowOf,
  storedStateIsHeld,
  tampered,
  wrapNewDek,
  effectOf,
} from '../support/applier.js';
import {
  Applier,
  ErrorCode,
  MemoryRegistryStore,
  encodeBootstrap,
  exportSidecar,
  hasCode,
  isHalt,
  type Bootstrap,
  type FileKek,
  type KekUnwrapper,
  type KeyledgerErrorCode,
} from '../../src/index.js';

/** Wraps a KEK and keeps every DEK it handed to the applier, to check they were zero-filled. */
function recordingKek(inner: FileKek): KekUnwrapper & { handed: Uint8Array[] } {
  const handed: Uint8Array[] = [];
  return {
    handed,
    async unwrap(wrapped) {
      const dek = await inner.unwrap(wrapped);
      handed.push(dek);
      return dek;
    },
  };
}

async function setup(kek: KekUnwrapper | undefined = undefined) {
  const store = new FaultyStore(new MemoryRegistryStore());
  const applier = await Applier.open(store, { ...(kek ? { kek } : {}), now: () => FIXED_NOW });
  return { store, applier };
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

describe('bootstrap', () => {
  it('bootstrap › without a KEK halts with ERR_KEK_NOT_CONFIGURED and changes nothing', async () => {
    const { store, applier } = await setup();
    await haltsAndChangesNothing(store, applier, encodeBootstrap(await newBootstrap(newKek())), 1n, ErrorCode.KEK_NOT_CONFIGURED, 'no KEK');
    expect(store.calls.write).toBe(0);
  });

  it('bootstrap › installs both DEKs, both active ids, both key entries, the applied index and every batch row in one write', async () => {
    const kek = newKek();
    const { store, applier } = await setup(kek);
    const b = await newBootstrap(kek, { registrations: [reg(1, W1, 3), reg(2, W2, 4)] });
    await expect(applier.applyEntry(encodeBootstrap(b), 42n)).resolves.toMatchObject({ kind: 'bootstrap', effect: 'bootstrapped' });
    expect(store.calls.write).toBe(1);
    expect(applier.keyIds()).toEqual([1, 2]);
    expect(JSON.parse(exportSidecar(applier.state))).toEqual({
      version: 2,
      raft_applied_index: 42,
      storage_envelope_active: false,
      storage_envelope_cutover_index: 0,
      raft_envelope_cutover_index: 0,
      active: { storage: 1, raft: 2 },
      keys: {
        '1': { purpose: 'storage', wrapped: b64(b.storageWrapped), created: '2025-01-01T00:00:00.000Z', local_epoch: 3 },
        '2': { purpose: 'raft', wrapped: b64(b.raftWrapped), created: '2025-01-01T00:00:00.000Z', local_epoch: 4 },
      },
    });
    await storedStateIsHeld(store, applier, 'after bootstrap');
    expect(await rowOf(store, 1, W1)).toEqual({ fullNodeId: W1, firstSeenEpoch: 3, lastSeenEpoch: 3 });
    expect(await rowOf(store, 2, W2)).toEqual({ fullNodeId: W2, firstSeenEpoch: 4, lastSeenEpoch: 4 });
  });

  it('bootstrap › without a raft index the applied index stays where it was', async () => {
    const kek = newKek();
    const { applier } = await setup(kek);
    await applier.applyEntry(encodeBootstrap(await newBootstrap(kek)));
    expect(applier.state.raftAppliedIndex).toBe(0n);
  });

  it('bootstrap › an exact replay is accepted: only the applied index rises, nothing is unwrapped and the batch is not re-applied', async () => {
    const inner = newKek();
    const kek = recordingKek(inner);
    const { store, applier } = await setup(kek);
    const entry = encodeBootstrap(await newBootstrap(inner));
    await applier.applyEntry(entry, 10n);
    await applier.applyEntry(regEntry(1, W1, 9), 11n);
    const before = await observe(store, applier);
    const unwraps = kek.handed.length;
    await expect(applier.applyEntry(entry, 12n)).resolves.toMatchObject({ kind: 'bootstrap', effect: 'replayed' });
    await onlyIndexRaised(store, applier, before, 12n, 'replay');
    expect(kek.handed.length).toBe(unwraps);
    expect(await rowOf(store, 1, W1)).toEqual({ fullNodeId: W1, firstSeenEpoch: 1, lastSeenEpoch: 9 });
  });

  it('bootstrap › the applied index never goes down: a replay at a lower index writes nothing', async () => {
    const kek = newKek();
    const { store, applier } = await setup(kek);
    const entry = encodeBootstrap(await newBootstrap(kek));
    await applier.applyEntry(entry, 10n);
    const writes = store.calls.write;
    await applier.applyEntry(entry, 3n);
    expect(applier.state.raftAppliedIndex).toBe(10n);
    expect(store.calls.write).toBe(writes);
  });

  type Rejection = [name: string, make: (first: Bootstrap, kek: FileKek) => Promise<Bootstrap>, code: KeyledgerErrorCode];
  const afterBootstrap: Rejection[] = [
    [
      'different DEKs on re-bootstrap',
      async (_, kek) => newBootstrap(kek, { storageDekId: 5, raftDekId: 6, registrations: [reg(5, W1, 1)] }),
      ErrorCode.KEY_CONFLICT,
    ],
    [
      'the same ids with a different storage wrapped DEK',
      async (first, kek) => ({ ...first, storageWrapped: await wrapNewDek(kek) }),
      ErrorCode.KEY_CONFLICT,
    ],
    [
      'the same ids with a different raft wrapped DEK',
      async (first, kek) => ({ ...first, raftWrapped: await wrapNewDek(kek) }),
      ErrorCode.KEY_CONFLICT,
    ],
    ['a batch row naming a foreign DEK', async (first) => ({ ...first, registrations: [reg(9, W1, 1)] }), ErrorCode.ENTRY_INVALID],
    ['storage id = raft id', async (first) => ({ ...first, raftDekId: first.storageDekId }), ErrorCode.ENTRY_INVALID],
  ];
  it.each(afterBootstrap)('bootstrap › %s halts after a bootstrap and changes nothing', async (_, make, code) => {
    const kek = newKek();
    const { store, applier } = await setup(kek);
    const first = await newBootstrap(kek);
    await applier.applyEntry(encodeBootstrap(first), 10n);
    await haltsAndChangesNothing(store, applier, encodeBootstrap(await make(first, kek)), 11n, code, 'second bootstrap');
  });

  const shapes: [string, Partial<Bootstrap>][] = [
    ['a batch row naming a foreign DEK', { registrations: [reg(1, W1, 1), reg(3, W2, 1)] }],
    ['storage id = raft id', { raftDekId: 1, registrations: [] }],
  ];
  it.each(shapes)('bootstrap › %s halts with ERR_ENTRY_INVALID before anything is unwrapped', async (_, patch) => {
    const inner = newKek();
    const kek = recordingKek(inner);
    const { store, applier } = await setup(kek);
    await haltsAndChangesNothing(
      store,
      applier,
      encodeBootstrap(await newBootstrap(inner, patch)),
      1n,
      ErrorCode.ENTRY_INVALID,
      'bad shape',
    );
    expect(kek.handed).toEqual([]);
    expect(store.calls.write).toBe(0);
  });

  it.each(['storage', 'raft'] as const)(
    'bootstrap › a %s DEK the KEK cannot unwrap halts with ERR_KEK_MISMATCH and changes nothing',
    async (which) => {
      const kek = newKek();
      const { store, applier } = await setup(kek);
      const b = await newBootstrap(kek);
      const bad =
        which === 'storage' ? { ...b, storageWrapped: tampered(b.storageWrapped) } : { ...b, raftWrapped: await wrapNewDek(newKek()) };
      await haltsAndChangesNothing(store, applier, encodeBootstrap(bad), 1n, ErrorCode.KEK_MISMATCH, `${which} DEK`);
      expect(store.calls.write).toBe(0);
    },
  );

  it("bootstrap › a custom KEK's own failure is reported as ERR_KEK_MISMATCH with that failure as cause", async () => {
    const failure = new Error('kms unavailable');
    const { store, applier } = await setup({ unwrap: () => Promise.reject(failure) });
    const err = await applier.applyEntry(encodeBootstrap(await newBootstrap(newKek())), 1n).catch((e: unknown) => e);
    expect(isHalt(err)).toBe(true);
    expect(hasCode(err, ErrorCode.KEK_MISMATCH)).toBe(true);
    let cur: unknown = err;
    while (cur instanceof Error && cur !== failure) cur = cur.cause;
    expect(cur).toBe(failure);
    expect(store.calls.write).toBe(0);
  });

  it('bootstrap › when the raft DEK cannot be unwrapped, the storage DEK already unwrapped is zero-filled', async () => {
    const inner = newKek();
    const kek = recordingKek(inner);
    const { applier } = await setup(kek);
    const b = await newBootstrap(inner);
    await expect(applier.applyEntry(encodeBootstrap({ ...b, raftWrapped: tampered(b.raftWrapped) }), 1n)).rejects.toSatisfy(isHalt);
    expect(kek.handed).toHaveLength(1);
    expect(kek.handed[0]!.every((x) => x === 0)).toBe(true);
  });

  it('bootstrap › every unwrapped DEK is zero-filled once the keystore holds its own copy', async () => {
    const inner = newKek();
    const kek = recordingKek(inner);
    const { applier } = await setup(kek);
    await applier.applyEntry(encodeBootstrap(await newBootstrap(inner)), 1n);
    expect(kek.handed).toHaveLength(2);
    for (const dek of kek.handed) expect(dek.every((x) => x === 0)).toBe(true);
    expect(applier.keyIds()).toEqual([1, 2]);
  });

  it.each([
    ['a slot collision', [reg(1, W1, 1), reg(1, W1_TWIN, 1)], ErrorCode.NODE_ID_COLLISION],
    ['an epoch rollback', [reg(2, W1, 3), reg(2, W1, 2)], ErrorCode.LOCAL_EPOCH_ROLLBACK],
  ] as const)('bootstrap › %s in the batch halts and undoes the whole entry: no key, no state, no row', async (_, registrations, code) => {
    const kek = newKek();
    const { store, applier } = await setup(kek);
    await haltsAndChangesNothing(
      store,
      applier,
      encodeBootstrap(await newBootstrap(kek, { registrations: [...registrations] })),
      1n,
      code,
      'batch halt',
    );
    expect(store.calls.write).toBe(0);
  });

  it('bootstrap › a store write failure halts with ERR_STORE_IO, changes nothing, and the same entry applies on retry', async () => {
    const kek = newKek();
    const { store, applier } = await setup(kek);
    const entry = encodeBootstrap(await newBootstrap(kek));
    store.plan = { operation: 'write', nth: 1, mode: 'once' };
    await haltsAndChangesNothing(store, applier, entry, 5n, ErrorCode.STORE_IO, 'failing write');
    await expect(applier.applyEntry(entry, 5n)).resolves.toMatchObject({ kind: 'bootstrap', effect: 'bootstrapped' });
    expect(applier.keyIds()).toEqual([1, 2]);
  });

  it('bootstrap › in a group, the entry after a bootstrap sees its batch rows and both commit in one write', async () => {
    const kek = newKek();
    const { store, applier } = await setup(kek);
    const results = await applier.applyEntries([
      { entry: encodeBootstrap(await newBootstrap(kek)), index: 1n },
      { entry: regEntry(1, W1, 2), index: 2n },
    ]);
    expect(results.map(effectOf)).toEqual(['bootstrapped', 'advanced']);
    expect(store.calls.write).toBe(1);
  });

  it('bootstrap › a halt at position 1 of a group keeps the bootstrap at position 0 committed', async () => {
    const kek = newKek();
    const { store, applier } = await setup(kek);
    const err = await applier
      .applyEntries([
        { entry: encodeBootstrap(await newBootstrap(kek)), index: 1n },
        { entry: encodeBootstrap(await newBootstrap(kek, { storageDekId: 7, raftDekId: 8, registrations: [] })), index: 2n },
      ])
      .catch((e: unknown) => e);
    expect(isHalt(err)).toBe(true);
    expect(hasCode(err, ErrorCode.KEY_CONFLICT)).toBe(true);
    expect((err as { position?: number }).position).toBe(1);
    expect(applier.state.active).toEqual({ storage: 1, raft: 2 });
    expect(applier.keyIds()).toEqual([1, 2]);
    await storedStateIsHeld(store, applier, 'after the group');
  });
});
