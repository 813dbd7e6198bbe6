import { formatNodeId, registryKey } from '../codec/registry-key.js';
import { decodeRegistryRow, type RegistryRow } from '../codec/registry-row.js';
import { ErrorCode, KeyledgerError } from '../errors.js';
import type { ApplierBridge, WritePath } from '../applier/encryptor-bridge.js';
import { withKey } from '../applier/encryption-state-edit.js';
import type { KeyPurpose } from '../state/encryption-state.js';

const EPOCH_MAX = 0xffff;

/**
 * How far a bump must go. `open`: one past the stored `local_epoch`, refused when that is not
 * strictly above the registry's last epoch for this node (a restored record). `past-registry`:
 * one past both, after the log itself proved the stored epoch used up (docs/design.md, section
 * 'Encryptor', "bumping again").
 */
export type BumpMode = 'open' | 'past-registry';

export interface Bumped {
  dekId: number;
  epoch: number;
}

async function ownRow(io: WritePath, dekId: number, nodeId: bigint): Promise<RegistryRow | undefined> {
  const raw = await io.get(registryKey(dekId, nodeId));
  if (raw === undefined) return undefined;
  const row = decodeRegistryRow(raw);
  if (row.fullNodeId !== nodeId) {
    throw new KeyledgerError(
      ErrorCode.NODE_ID_COLLISION,
      `slot ${row.fullNodeId & 0xffffn} of DEK ${dekId} is owned by node ${formatNodeId(row.fullNodeId)}; node ${formatNodeId(nodeId)} cannot write under it`,
    );
  }
  return row;
}

/**
 * The startup guards and the durable epoch bump, run inside the applier's serialized write path
 * so no entry applies between the checks and the write. Guard order: not bootstrapped, no KEK,
 * slot owned by another node, epoch exhausted, rollback. The bumped epoch is in the store before
 * this resolves; a crash before that leaves the old epoch, under which no nonce was drawn.
 *
 * Missing registry row: allowed before and after the storage envelope cutover. elastickv refuses
 * it after the cutover because its startup check is its only anchor; here the registration gate
 * is (no nonce before this epoch's own registration took effect at its own index, which the
 * registry's strict-increase rule orders after every epoch this node registered before).
 */
export async function bumpLocalEpoch(
  io: WritePath,
  bridge: ApplierBridge,
  purpose: KeyPurpose,
  nodeId: bigint,
  mode: BumpMode,
): Promise<Bumped> {
  const dekId = io.state.active[purpose];
  if (dekId === 0) {
    throw new KeyledgerError(ErrorCode.NOT_BOOTSTRAPPED, `no active ${purpose} DEK: apply the bootstrap entry before opening an Encryptor`);
  }
  const dek = bridge.dek(dekId);
  if (dek === undefined) {
    throw new KeyledgerError(ErrorCode.KEK_NOT_CONFIGURED, `the applier holds no unwrapped DEK ${dekId}: open it with { kek }`);
  }
  dek.fill(0);
  const key = io.state.keys.get(dekId)!;
  const row = await ownRow(io, dekId, nodeId);
  const last = row?.lastSeenEpoch ?? 0;
  const from = mode === 'past-registry' ? Math.max(key.localEpoch, last) : key.localEpoch;
  if (from >= EPOCH_MAX) {
    throw new KeyledgerError(
      ErrorCode.LOCAL_EPOCH_EXHAUSTED,
      `node ${formatNodeId(nodeId)} has used every local epoch of DEK ${dekId}: rotate the ${purpose} DEK to write again`,
    );
  }
  const epoch = from + 1;
  if (row !== undefined && epoch <= last) {
    throw new KeyledgerError(
      ErrorCode.LOCAL_EPOCH_ROLLBACK,
      `the stored local_epoch ${key.localEpoch} of DEK ${dekId} is below the registry's last epoch ${last} for node ${formatNodeId(nodeId)}: this store's state was restored from an older copy than its registry; restore both from one replica, or rotate the DEK`,
    );
  }
  await io.commitState(withKey(io.state, dekId, { ...key, localEpoch: epoch }));
  return { dekId, epoch };
}
