import type { Bootstrap } from '../codec/bootstrap.js';
import { bytesEqual } from '../bytes.js';
import { ErrorCode, KeyledgerError, entryInvalid } from '../errors.js';
import type { ApplierOptions } from './applier-options.js';
import { applyRegistration } from './apply-registration.js';
import type { RegistrationApplied } from './apply-result.js';
import type { EntryTxn } from './apply-txn.js';
import { raiseAppliedIndex, withKey, withState } from './encryption-state-edit.js';
import { createdAt, unwrapDek } from './host-callbacks.js';
import { startingLocalEpoch } from './local-writer-epoch.js';

/** 'bootstrapped' on first apply; 'replayed' for an exact replay, which only raises the applied index. */
export type BootstrapEffect = 'bootstrapped' | 'replayed';

/**
 * Applies a bootstrap (docs/design.md, 'Bootstrap rule'): both DEKs, both active ids, the
 * applied index and every batch registration are staged together and so commit in the entry's
 * one atomic write. `batch` holds the batch rows as registration entry bytes (the plan encoded
 * them to prefetch their rows).
 */
export async function applyBootstrap(
  txn: EntryTxn,
  b: Bootstrap,
  batch: readonly Uint8Array[],
  index: bigint | undefined,
  options: ApplierOptions,
): Promise<{ effect: BootstrapEffect; registrations: RegistrationApplied[] }> {
  const kek = options.kek;
  if (!kek) throw new KeyledgerError(ErrorCode.KEK_NOT_CONFIGURED, 'bootstrap needs a KEK: configure the applier with `kek`');
  if (b.storageDekId === b.raftDekId) {
    throw entryInvalid(`bootstrap names DEK ${b.storageDekId} for both storage and raft`);
  }
  for (const [i, r] of b.registrations.entries()) {
    if (r.dekId !== b.storageDekId && r.dekId !== b.raftDekId) {
      throw entryInvalid(`bootstrap batch[${i}] names DEK ${r.dekId}, which is neither the storage nor the raft DEK`);
    }
  }
  const s = txn.state;
  if (s.active.storage !== 0 || s.active.raft !== 0) {
    const storage = s.keys.get(b.storageDekId);
    const raft = s.keys.get(b.raftDekId);
    const exact =
      s.active.storage === b.storageDekId &&
      s.active.raft === b.raftDekId &&
      storage !== undefined &&
      raft !== undefined &&
      bytesEqual(storage.wrapped, b.storageWrapped) &&
      bytesEqual(raft.wrapped, b.raftWrapped);
    if (!exact) {
      throw new KeyledgerError(
        ErrorCode.KEY_CONFLICT,
        `already bootstrapped with storage DEK ${s.active.storage} and raft DEK ${s.active.raft}; a re-bootstrap must be an exact replay`,
      );
    }
    // The batch was applied with the original; re-applying it now could read as a rollback
    // against epochs registered since, so an exact replay only raises the applied index.
    const next = raiseAppliedIndex(s, index);
    if (next !== s) txn.setState(next);
    return { effect: 'replayed', registrations: [] };
  }
  const storageDek = await unwrapDek(kek, b.storageDekId, b.storageWrapped);
  let raftDek: Uint8Array | undefined;
  try {
    // Inside the try: when the raft DEK cannot be unwrapped, the storage DEK already in hand
    // must still be zero-filled, or a halted bootstrap leaves key material in the heap.
    raftDek = await unwrapDek(kek, b.raftDekId, b.raftWrapped);
    txn.stageKey(b.storageDekId, storageDek);
    txn.stageKey(b.raftDekId, raftDek);
  } finally {
    storageDek.fill(0);
    raftDek?.fill(0);
  }
  const created = createdAt(options);
  const storageEpoch = startingLocalEpoch(b.storageDekId, b.registrations);
  let next = withKey(s, b.storageDekId, { purpose: 'storage', wrapped: b.storageWrapped, created, localEpoch: storageEpoch });
  const raftEpoch = startingLocalEpoch(b.raftDekId, b.registrations);
  next = withKey(next, b.raftDekId, { purpose: 'raft', wrapped: b.raftWrapped, created, localEpoch: raftEpoch });
  next = raiseAppliedIndex(withState(next, { active: { storage: b.storageDekId, raft: b.raftDekId } }), index);
  txn.setState(next);
  const registrations = batch.map((reg) => applyRegistration(txn, reg));
  return { effect: 'bootstrapped', registrations };
}
