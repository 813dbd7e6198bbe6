import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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
  Applier,
  ErrorCode,
  FileKek,
  MemoryRegistryStore,
  Purpose,
  RotationSubtag,
  STATE_KEY,
  encodeBootstrap,
  encodeState,
  exportSidecar,
  hasCode,
  isHalt,
  type RegistryStore,
} from '../../src/index.js';
// @ts-expect-error -- a plain .mjs fixture without types (it imports core's dist: build first)
import { openStore } from '../fixtures/json-file-store.mjs';

/** A store holding a bootstrap, a storage rotation and both cutovers, applied with `kek`. */
async function populated(kek: FileKek, store: RegistryStore = new MemoryRegistryStore()): Promise<RegistryStore> {
  const applier = await Applier.open(store, { kek, now: () => FIXED_NOW });
  await applier.applyEntry(encodeBootstrap(await newBootstrap(kek)), 10n);
  await applier.applyEntry(rotateDekEntry(3, Purpose.STORAGE, await wrapNewDek(kek), W1, 2), 11n);
  await applier.applyEntry(cutoverEntry(RotationSubtag.ENABLE_STORAGE_ENVELOPE, 3, W2, 2), 12n);
  await applier.applyEntry(cutoverEntry(RotationSubtag.ENABLE_RAFT_ENVELOPE, 2, W2, 2), 13n);
  await applier.close();
  return store;
}

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('open', () => {
  it('open › loads the stored state and rebuilds the keystore with the KEK', async () => {
    const kek = newKek();
    const store = await populated(kek);
    const applier = await Applier.open(store, { kek });
    expect(applier.keyIds()).toEqual([1, 2, 3]);
    expect(applier.state).toMatchObject({
      active: { storage: 3, raft: 2 },
      raftAppliedIndex: 13n,
      storageEnvelopeActive: true,
      raftEnvelopeCutoverIndex: 13n,
    });
    expect(encodeState(applier.state)).toEqual(await store.get(STATE_KEY));
    await applier.close();
  });

  it('open › every DEK unwrapped while rebuilding is zero-filled once the keystore holds its copy', async () => {
    const kek = newKek();
    const store = await populated(kek);
    const handed: Uint8Array[] = [];
    const unwrap = async (w: Uint8Array) => {
      const dek = await kek.unwrap(w);
      handed.push(dek);
      return dek;
    };
    const applier = await Applier.open(store, { kek: { unwrap } });
    expect(handed).toHaveLength(3);
    for (const dek of handed) expect(dek.every((x) => x === 0)).toBe(true);
    await applier.close();
  });

  it('open › a different KEK rejects with ERR_KEK_MISMATCH (not a halt) and leaves the store free for another applier', async () => {
    const store = await populated(newKek());
    const err = await Applier.open(store, { kek: newKek() }).catch((e: unknown) => e);
    expect(hasCode(err, ErrorCode.KEK_MISMATCH)).toBe(true);
    expect(isHalt(err)).toBe(false);
    const bare = await Applier.open(store);
    await bare.close();
  });

  it('open › a tampered wrapped DEK in the stored state rejects with ERR_KEK_MISMATCH', async () => {
    const kek = newKek();
    const store = await populated(kek);
    const held = await Applier.open(store);
    const state = held.state;
    await held.close();
    const wrapped = new Uint8Array(state.keys.get(3)!.wrapped);
    wrapped[30] = wrapped[30]! ^ 0x80;
    const keys = new Map(state.keys).set(3, { ...state.keys.get(3)!, wrapped });
    await store.write([{ key: STATE_KEY, value: encodeState({ ...state, keys }) }]);
    await expect(Applier.open(store, { kek })).rejects.toSatisfy((e: unknown) => hasCode(e, ErrorCode.KEK_MISMATCH));
  });

  it('open › without a KEK the state loads, the keystore stays empty, and registrations still apply', async () => {
    const store = await populated(newKek());
    const applier = await Applier.open(store);
    expect(applier.keyIds()).toEqual([]);
    expect(applier.state.active).toEqual({ storage: 3, raft: 2 });
    await expect(applier.applyEntry(regEntry(3, W1, 5), 14n)).resolves.toMatchObject({ kind: 'registration', effect: 'advanced' });
    await applier.close();
  });

  it('open › a malformed state record rejects with ERR_STATE_MALFORMED', async () => {
    const store = new MemoryRegistryStore();
    await store.write([{ key: STATE_KEY, value: new TextEncoder().encode('{"version":2}') }]);
    await expect(Applier.open(store, { kek: newKek() })).rejects.toSatisfy((e: unknown) => hasCode(e, ErrorCode.STATE_MALFORMED));
  });

  it('open › a failing read rejects with ERR_STORE_IO and holds nothing; open again succeeds once the store recovers', async () => {
    const kek = newKek();
    const store = new FaultyStore(await populated(kek));
    store.plan = { operation: 'get', nth: 1, mode: 'once' };
    await expect(Applier.open(store, { kek })).rejects.toSatisfy((e: unknown) => hasCode(e, ErrorCode.STORE_IO));
    const applier = await Applier.open(store, { kek });
    expect(applier.keyIds()).toEqual([1, 2, 3]);
    await applier.close();
  });

  it('open › the constructor is not a way in: only Applier.open loads an applier', () => {
    const Ctor = Applier as unknown as new (...args: unknown[]) => Applier;
    expect(() => new Ctor(Symbol('open'), new MemoryRegistryStore(), {}, {})).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_ARGUMENT }),
    );
  });

  it('open › the wrong KEK is refused with ERR_KEK_MISMATCH before any entry, holds nothing and changes nothing', async () => {
    const kek = newKek();
    const store = await populated(kek);
    const before = await Applier.open(store, { kek }).then(async (a) => {
      const o = await observe(store, a);
      await a.close();
      return o;
    });
    const err = await Applier.open(store, { kek: newKek() }).catch((e: unknown) => e);
    expect(hasCode(err, ErrorCode.KEK_MISMATCH)).toBe(true);
    expect(isHalt(err)).toBe(false);
    const right = await Applier.open(store, { kek });
    await unchanged(store, right, before, 'after the halted first entry');
    await right.close();
  });

  it('open › close empties the keystore', async () => {
    const kek = newKek();
    const applier = await Applier.open(await populated(kek), { kek });
    expect(applier.keyIds()).toEqual([1, 2, 3]);
    await applier.close();
    expect(applier.keyIds()).toEqual([]);
  });

  it('open › on a durable store, closing and reopening rebuilds the keystore with the same KEK file; another KEK file is ERR_KEK_MISMATCH', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keyledger-open-'));
    dirs.push(dir);
    const kek = await FileKek.generate(join(dir, 'kek'));
    const first: RegistryStore = await openStore(dir);
    const held = await Applier.open(await populated(kek, first), { kek }).then(async (a) => {
      const o = { state: exportSidecar(a.state), keyIds: a.keyIds() };
      await a.close();
      return o;
    });
    await first.close();
    const second: RegistryStore = await openStore(dir);
    const reopened = await Applier.open(second, { kek: await FileKek.open(join(dir, 'kek')) });
    expect({ state: exportSidecar(reopened.state), keyIds: reopened.keyIds() }).toEqual(held);
    await reopened.close();
    const other = await FileKek.generate(join(dir, 'other-kek'));
    await expect(Applier.open(second, { kek: other })).rejects.toSatisfy((e: unknown) => hasCode(e, ErrorCode.KEK_MISMATCH));
    await second.close();
  });
});
