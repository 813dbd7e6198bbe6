import { Purpose, RotationSubtag, type Rotation } from '../codec/rotation.js';
import { bytesEqual } from '../bytes.js';
import { ErrorCode, KeyledgerError } from '../errors.js';
import type { KeyPurpose } from '../state/encryption-state.js';
import type { ApplierOptions } from './applier-options.js';
import { applyRegistration } from './apply-registration.js';
import type { EntryTxn } from './apply-txn.js';
import { raiseAppliedIndex, withKey, withState } from './encryption-state-edit.js';
import { unwrapDek } from './unwrap-dek.js';

/**
 * - rotate DEK: 'rotated', or 'replayed' when the same wrapped DEK is already held
 * - envelope cutovers: 'enabled', 'already-enabled', or 'stale' (the entry names a key that is
 *   no longer active) — the last two only raise the applied index
 */
export type RotationEffect = 'rotated' | 'replayed' | 'enabled' | 'already-enabled' | 'stale';

function purposeName(p: Purpose): KeyPurpose {
  return p === Purpose.STORAGE ? 'storage' : 'raft';
}

function malformed(msg: string): KeyledgerError {
  return new KeyledgerError(ErrorCode.FSM_WIRE_MALFORMED, msg);
}

/** Applies a rotation entry (docs/design.md, 'Rotation rule'): a DEK rotation or one of the two envelope cutovers. */
export async function applyRotation(
  txn: EntryTxn,
  rot: Rotation,
  index: bigint | undefined,
  options: ApplierOptions,
): Promise<RotationEffect> {
  const kek = options.kek;
  if (!kek) throw new KeyledgerError(ErrorCode.KEK_NOT_CONFIGURED, 'rotation needs a KEK: configure the applier with `kek`');
  const s = txn.state;
  if (s.active.storage === 0 && s.active.raft === 0) {
    throw new KeyledgerError(ErrorCode.NOT_BOOTSTRAPPED, 'rotation before bootstrap: apply the bootstrap entry first');
  }
  if (rot.proposer.dekId !== rot.dekId) {
    throw malformed(`rotation names DEK ${rot.dekId} but its proposer registers under DEK ${rot.proposer.dekId}`);
  }
  switch (rot.subtag) {
    case RotationSubtag.ROTATE_DEK:
      return rotateDek(txn, rot, index, options);
    case RotationSubtag.ENABLE_STORAGE_ENVELOPE:
      return enableStorageEnvelope(txn, rot, index);
    case RotationSubtag.ENABLE_RAFT_ENVELOPE:
      return enableRaftEnvelope(txn, rot, index, options);
  }
}

function raiseOnly(txn: EntryTxn, index: bigint | undefined): void {
  const next = raiseAppliedIndex(txn.state, index);
  if (next !== txn.state) txn.setState(next);
}

async function rotateDek(txn: EntryTxn, rot: Rotation, index: bigint | undefined, options: ApplierOptions): Promise<RotationEffect> {
  if (rot.wrapped.length === 0) throw malformed('a DEK rotation must carry a wrapped DEK');
  const purpose = purposeName(rot.purpose);
  const s = txn.state;
  const held = s.keys.get(rot.dekId);
  if (held) {
    if (held.purpose !== purpose || !bytesEqual(held.wrapped, rot.wrapped)) {
      throw new KeyledgerError(ErrorCode.KEY_CONFLICT, `DEK ${rot.dekId} is already held with other wrapped bytes or purpose`);
    }
    // A replay of an applied rotation. Re-activating it could bring back a retired key, and
    // re-registering its proposer could read as a rollback, so it only raises the index.
    raiseOnly(txn, index);
    return 'replayed';
  }
  const dek = await unwrapDek(options.kek!, rot.dekId, rot.wrapped);
  try {
    txn.stageKey(rot.dekId, dek);
  } finally {
    dek.fill(0);
  }
  const created = (options.now?.() ?? new Date()).toISOString();
  let next = withKey(s, rot.dekId, { purpose, wrapped: rot.wrapped, created, localEpoch: 0 });
  next = withState(next, { active: { ...next.active, [purpose]: rot.dekId } });
  txn.setState(raiseAppliedIndex(next, index));
  await applyRegistration(txn, rot.proposer);
  if (purpose === 'raft' && s.raftEnvelopeCutoverIndex > 0n) {
    // Once the raft envelope is on, a new raft key takes effect at this entry.
    await options.onRaftKeyInstalled?.(index ?? s.raftEnvelopeCutoverIndex, rot.dekId);
  }
  return 'rotated';
}

function checkCutoverShape(rot: Rotation, purpose: Purpose): void {
  if (rot.purpose !== purpose) {
    throw malformed(
      `an ${purposeName(purpose)} envelope cutover must have purpose ${purposeName(purpose)}, got ${purposeName(rot.purpose)}`,
    );
  }
  if (rot.wrapped.length !== 0) throw malformed('an envelope cutover carries no wrapped DEK');
}

async function enableStorageEnvelope(txn: EntryTxn, rot: Rotation, index: bigint | undefined): Promise<RotationEffect> {
  checkCutoverShape(rot, Purpose.STORAGE);
  const s = txn.state;
  if (rot.dekId !== s.active.storage) {
    raiseOnly(txn, index);
    return 'stale';
  }
  if (s.storageEnvelopeActive) {
    raiseOnly(txn, index);
    return 'already-enabled';
  }
  await applyRegistration(txn, rot.proposer);
  const cutover = index ?? 0n;
  txn.setState(raiseAppliedIndex(withState(txn.state, { storageEnvelopeActive: true, storageEnvelopeCutoverIndex: cutover }), index));
  return 'enabled';
}

async function enableRaftEnvelope(
  txn: EntryTxn,
  rot: Rotation,
  index: bigint | undefined,
  options: ApplierOptions,
): Promise<RotationEffect> {
  checkCutoverShape(rot, Purpose.RAFT);
  if (index === undefined || index === 0n) throw malformed('a raft envelope cutover needs a non-zero raft index');
  const s = txn.state;
  if (s.raftEnvelopeCutoverIndex > 0n) {
    raiseOnly(txn, index);
    await options.onRaftKeyInstalled?.(s.raftEnvelopeCutoverIndex, s.active.raft);
    return 'already-enabled';
  }
  if (rot.dekId !== s.active.raft) {
    raiseOnly(txn, index);
    return 'stale';
  }
  await applyRegistration(txn, rot.proposer);
  txn.setState(raiseAppliedIndex(withState(txn.state, { raftEnvelopeCutoverIndex: index }), index));
  await options.onRaftKeyInstalled?.(index, rot.dekId);
  return 'enabled';
}
