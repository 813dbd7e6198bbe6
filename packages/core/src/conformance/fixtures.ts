import { deepStrictEqual } from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  Applier,
  type ApplierOptions,
  type Bootstrap,
  FileKek,
  Purpose,
  type RegistryRow,
  type RegistryStore,
  type Registration,
  type Rotation,
  RotationSubtag,
  type StoreEntry,
  decodeRegistryRow,
  encodeRegistration,
  encodeRotation,
  exportSidecar,
  registryKey,
} from '../index.js';
import { sameEntries, scanAll } from './assertions.js';

// The fixtures of the applier cases (and of core's own applier tests): writers, KEKs, entries,
// and a way to prove that an apply changed nothing a caller can observe.

/** The clock every key-bearing case gives the applier, so two replays write byte-identical state. */
export const FIXED_NOW = new Date('2025-01-01T00:00:00.000Z');

export const W1 = 0x0000_0001_0000_0001n;
export const W2 = 0x0000_0001_0000_0002n;
export const W3 = 0x0000_0001_0000_0003n;
/** Shares W1's 16-bit slot (0x0001) under another full node id. */
export const W1_TWIN = 0x0000_0009_0000_0001n;

/** A KEK over 32 fresh random bytes; conformance never needs a file on disk. */
export function newKek(): FileKek {
  return FileKek.fromBytes(randomBytes(32), 'conformance');
}

/** A fresh random DEK wrapped by `kek`. */
export function wrapNewDek(kek: FileKek): Promise<Uint8Array> {
  return kek.wrap(randomBytes(32));
}

export async function withKeyedApplier<T>(
  store: RegistryStore,
  kek: FileKek | undefined,
  fn: (a: Applier) => Promise<T>,
  options: ApplierOptions = {},
): Promise<T> {
  const applier = await Applier.open(store, { ...(kek ? { kek } : {}), now: () => FIXED_NOW, ...options });
  try {
    return await fn(applier);
  } finally {
    await applier.close();
  }
}

export const reg = (dekId: number, fullNodeId: bigint, localEpoch: number): Registration => ({ dekId, fullNodeId, localEpoch });
export const regEntry = (dekId: number, fullNodeId: bigint, localEpoch: number): Uint8Array =>
  encodeRegistration(reg(dekId, fullNodeId, localEpoch));

/** A bootstrap of storage DEK 1 and raft DEK 2 whose batch registers W1..W3 at epoch 1 under both. */
export async function newBootstrap(kek: FileKek, patch: Partial<Bootstrap> = {}): Promise<Bootstrap> {
  return {
    storageDekId: 1,
    storageWrapped: await wrapNewDek(kek),
    raftDekId: 2,
    raftWrapped: await wrapNewDek(kek),
    registrations: [W1, W2, W3].flatMap((w) => [reg(1, w, 1), reg(2, w, 1)]),
    ...patch,
  };
}

/** A DEK rotation; the proposer registers under `proposerDek` (the entry's own DEK unless a case breaks that rule). */
export function rotateDekEntry(
  dekId: number,
  purpose: Purpose,
  wrapped: Uint8Array,
  proposer: bigint,
  epoch: number,
  proposerDek = dekId,
): Uint8Array {
  return encodeRotation({ subtag: RotationSubtag.ROTATE_DEK, dekId, purpose, wrapped, proposer: reg(proposerDek, proposer, epoch) });
}

/** An envelope cutover of the right shape unless `patch` breaks it. */
export function cutoverEntry(
  subtag: typeof RotationSubtag.ENABLE_STORAGE_ENVELOPE | typeof RotationSubtag.ENABLE_RAFT_ENVELOPE,
  dekId: number,
  proposer: bigint,
  epoch: number,
  patch: Partial<Rotation> = {},
): Uint8Array {
  const purpose = subtag === RotationSubtag.ENABLE_STORAGE_ENVELOPE ? Purpose.STORAGE : Purpose.RAFT;
  return encodeRotation({ subtag, dekId, purpose, wrapped: new Uint8Array(0), proposer: reg(dekId, proposer, epoch), ...patch });
}

export async function rowOf(store: RegistryStore, dekId: number, fullNodeId: bigint): Promise<RegistryRow | undefined> {
  const v = await store.get(registryKey(dekId, fullNodeId));
  return v === undefined ? undefined : decodeRegistryRow(v);
}

/** Everything a caller can observe after an apply: every stored row, the applier's state, its keystore ids. */
export interface Observed {
  rows: StoreEntry[];
  state: string;
  keyIds: number[];
}

export async function observe(store: RegistryStore, applier: Applier): Promise<Observed> {
  return { rows: await scanAll(store), state: exportSidecar(applier.state), keyIds: applier.keyIds() };
}

/** Asserts that nothing observable changed since `before`: rows, state and keystore. */
export async function unchanged(store: RegistryStore, applier: Applier, before: Observed, what: string): Promise<void> {
  const now = await observe(store, applier);
  sameEntries(now.rows, before.rows, `${what}: the stored rows must be exactly as before`);
  deepStrictEqual(now.state, before.state, `${what}: the applier's state must be exactly as before`);
  deepStrictEqual(now.keyIds, before.keyIds, `${what}: the keystore must hold exactly the keys it held before`);
}
