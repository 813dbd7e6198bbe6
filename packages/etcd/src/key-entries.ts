import { Purpose, RotationSubtag, encodeBootstrap, encodeRotation, type EncryptionState, type Kek, wrapFreshDek } from '@keyledger/core';

/** The DEK ids a ledger's bootstrap installs; rotations take the next unused id. */
export const BOOTSTRAP_STORAGE_DEK = 1;
export const BOOTSTRAP_RAFT_DEK = 2;

/**
 * The bootstrap a node proposes on an empty log: a storage and a raft DEK, no batch. Every
 * node registers through its own registration entry (its Encryptor's epoch), so the batch has
 * no writer to name.
 */
export async function bootstrapEntry(kek: Kek): Promise<Uint8Array> {
  return encodeBootstrap({
    storageDekId: BOOTSTRAP_STORAGE_DEK,
    storageWrapped: await wrapFreshDek(kek),
    raftDekId: BOOTSTRAP_RAFT_DEK,
    raftWrapped: await wrapFreshDek(kek),
    registrations: [],
  });
}

/** The id a rotation proposed against `state` installs: one above every id ever held. */
export function nextDekId(state: EncryptionState): number {
  let max = 0;
  for (const id of state.keys.keys()) max = Math.max(max, id);
  return max + 1;
}

/**
 * A storage DEK rotation proposed against `state`. The proposer is registered under the new DEK
 * at `proposerEpoch`; the proposal is only appended while the log head is the index `state`
 * reflects, so two nodes never both install the same id.
 */
export async function rotationEntry(kek: Kek, state: EncryptionState, fullNodeId: bigint, proposerEpoch: number): Promise<Uint8Array> {
  const dekId = nextDekId(state);
  return encodeRotation({
    subtag: RotationSubtag.ROTATE_DEK,
    dekId,
    purpose: Purpose.STORAGE,
    wrapped: await wrapFreshDek(kek),
    proposer: { dekId, fullNodeId, localEpoch: proposerEpoch },
  });
}
