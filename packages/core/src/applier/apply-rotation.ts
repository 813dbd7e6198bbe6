import { Purpose, RotationSubtag, type Rotation } from '../codec/rotation.js';
import { bytesEqual } from '../bytes.js';
import { ErrorCode, KeyledgerError, entryInvalid } from '../errors.js';
import type { KeyPurpose } from '../state/encryption-state.js';
import type { ApplierOptions } from './applier-options.js';
import { applyRegistration } from './apply-registration.js';
import type { RegistrationApplied } from './apply-result.js';
import type { EntryTxn } from './apply-txn.js';
import { raiseAppliedIndex, withKey, withState } from './encryption-state-edit.js';
import { createdAt, unwrapDek } from './host-callbacks.js';
import { startingLocalEpoch } from './local-writer-epoch.js';

/**
 * - rotate DEK: 'rotated', or 'replayed' when the same wrapped DEK is already held
 * - envelope cutovers: 'enabled', 'already-enabled', or 'stale' (the entry names a key that is
 *   no longer active) — the last two only raise the applied index
 */
export type RotationEffect = 'rotated' | 'replayed' | 'enabled' | 'already-enabled' | 'stale';

function purposeName(p: Purpose): KeyPurpose {
  return p === Purpose.STORAGE ? 'storage' : 'raft';
}

type Applied = { effect: RotationEffect; registrations: RegistrationApplied[] };

/** One rotation being applied: its transaction, the entry, its proposer as entry bytes, its index. */
interface RotationCall {
  txn: EntryTxn;
  rot: Rotation;
  proposer: Uint8Array;
  index: bigint | undefined;
  options: ApplierOptions;
}

/** An effect that applied no registration: replays and stale or repeated cutovers. */
function only(effect: RotationEffect): Applied {
  return { effect, registrations: [] };
}

/**
 * Applies a rotation entry (docs/design.md, 'Rotation rule'): a DEK rotation or one of the two
 * envelope cutovers. `proposer` is the proposer's registration as entry bytes.
 */
export async function applyRotation(
  txn: EntryTxn,
  rot: Rotation,
  proposer: Uint8Array,
  index: bigint | undefined,
  options: ApplierOptions,
): Promise<Applied> {
  const kek = options.kek;
  if (!kek) throw new KeyledgerError(ErrorCode.KEK_NOT_CONFIGURED, 'rotation needs a KEK: configure the applier with `kek`');
  const s = txn.state;
  if (s.active.storage === 0 && s.active.raft === 0) {
    throw new KeyledgerError(ErrorCode.NOT_BOOTSTRAPPED, 'rotation before bootstrap: apply the bootstrap entry first');
  }
  if (rot.proposer.dekId !== rot.dekId) {
    throw entryInvalid(`rotation names DEK ${rot.dekId} but its proposer registers under DEK ${rot.proposer.dekId}`);
  }
  const call = { txn, rot, proposer, index, options };
  switch (rot.subtag) {
    case RotationSubtag.ROTATE_DEK:
      return rotateDek(call);
    case RotationSubtag.ENABLE_STORAGE_ENVELOPE:
      return enableStorageEnvelope(call);
    case RotationSubtag.ENABLE_RAFT_ENVELOPE:
      return enableRaftEnvelope(call);
  }
}

function raiseOnly(txn: EntryTxn, index: bigint | undefined): void {
  const next = raiseAppliedIndex(txn.state, index);
  if (next !== txn.state) txn.setState(next);
}

async function rotateDek({ txn, rot, proposer, index, options }: RotationCall): Promise<Applied> {
  if (rot.wrapped.length === 0) throw entryInvalid('a DEK rotation must carry a wrapped DEK');
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
    return only('replayed');
  }
  const dek = await unwrapDek(options.kek!, rot.dekId, rot.wrapped);
  try {
    txn.stageKey(rot.dekId, dek);
  } finally {
    dek.fill(0);
  }
  const created = createdAt(options);
  let next = withKey(s, rot.dekId, { purpose, wrapped: rot.wrapped, created, localEpoch: startingLocalEpoch(rot.dekId, [rot.proposer]) });
  next = withState(next, { active: { ...next.active, [purpose]: rot.dekId } });
  txn.setState(raiseAppliedIndex(next, index));
  const registrations = [applyRegistration(txn, proposer)];
  if (purpose === 'raft' && s.raftEnvelopeCutoverIndex > 0n) {
    // Once the raft envelope is on, a new raft key takes effect at this entry.
    await options.onRaftKeyInstalled?.(index ?? s.raftEnvelopeCutoverIndex, rot.dekId);
  }
  return { effect: 'rotated', registrations };
}

function checkCutoverShape(rot: Rotation, purpose: Purpose): void {
  if (rot.purpose !== purpose) {
    throw entryInvalid(
      `an ${purposeName(purpose)} envelope cutover must have purpose ${purposeName(purpose)}, got ${purposeName(rot.purpose)}`,
    );
  }
  if (rot.wrapped.length !== 0) throw entryInvalid('an envelope cutover carries no wrapped DEK');
}

async function enableStorageEnvelope({ txn, rot, proposer, index }: RotationCall): Promise<Applied> {
  checkCutoverShape(rot, Purpose.STORAGE);
  const s = txn.state;
  if (rot.dekId !== s.active.storage) {
    raiseOnly(txn, index);
    return only('stale');
  }
  if (s.storageEnvelopeActive) {
    raiseOnly(txn, index);
    return only('already-enabled');
  }
  const registrations = [applyRegistration(txn, proposer)];
  const cutover = index ?? 0n;
  txn.setState(raiseAppliedIndex(withState(txn.state, { storageEnvelopeActive: true, storageEnvelopeCutoverIndex: cutover }), index));
  return { effect: 'enabled', registrations };
}

async function enableRaftEnvelope({ txn, rot, proposer, index, options }: RotationCall): Promise<Applied> {
  checkCutoverShape(rot, Purpose.RAFT);
  if (index === undefined || index === 0n) throw entryInvalid('a raft envelope cutover needs a non-zero raft index');
  const s = txn.state;
  if (s.raftEnvelopeCutoverIndex > 0n) {
    raiseOnly(txn, index);
    await options.onRaftKeyInstalled?.(s.raftEnvelopeCutoverIndex, s.active.raft);
    return only('already-enabled');
  }
  if (rot.dekId !== s.active.raft) {
    raiseOnly(txn, index);
    return only('stale');
  }
  const registrations = [applyRegistration(txn, proposer)];
  txn.setState(raiseAppliedIndex(withState(txn.state, { raftEnvelopeCutoverIndex: index }), index));
  await options.onRaftKeyInstalled?.(index, rot.dekId);
  return { effect: 'enabled', registrations };
}
