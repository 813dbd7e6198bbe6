import { formatNodeId } from '../codec/registry-key.js';
import { REGISTRATION_NODE_AT, registrationEpoch, registrationOf } from '../codec/registration.js';
import { REGISTRY_ROW_LENGTH, decodeRegistryRow, registryRowAt, rowFirstEpoch, rowLastEpoch, rowOwnedBy } from '../codec/registry-row.js';
import { ErrorCode, KeyledgerError } from '../errors.js';

/** What a registration did to its slot. */
export type RegistrationEffect = 'inserted' | 'advanced' | 'replayed';

/**
 * The registration rule (docs/design.md, 'Registration rule'): the slot's stored row and a
 * well-formed registration entry in, the effect out, and for 'inserted' and 'advanced' the new
 * row written into `row` (12 bytes; untouched otherwise, and never the stored row). No store, no
 * transaction, no allocation on the way to a verdict (a group decides a million of these), so single entries, groups, bootstrap batches and rotation proposers all decide
 * through this one function.
 *
 * The order of the checks is the contract: a damaged row is never read as missing, and a
 * collision is reported before any epoch comparison — either mistake would let two writers, or
 * one writer twice, draw the same nonces. Throws ERR_REGISTRY_VALUE_MALFORMED,
 * ERR_NODE_ID_COLLISION or ERR_LOCAL_EPOCH_ROLLBACK.
 */
export function registrationRule(stored: Uint8Array | undefined, entry: Uint8Array, row: Uint8Array): RegistrationEffect {
  const epoch = registrationEpoch(entry);
  // 1. No row: the slot is free for this node.
  if (stored === undefined) {
    registryRowAt(entry, REGISTRATION_NODE_AT, epoch, epoch, row);
    return 'inserted';
  }
  // 2. A damaged row halts (decodeRegistryRow raises ERR_REGISTRY_VALUE_MALFORMED).
  if (!(stored instanceof Uint8Array) || stored.length !== REGISTRY_ROW_LENGTH) decodeRegistryRow(stored);
  // 3. Another node owns the 16-bit slot.
  if (!rowOwnedBy(stored, entry, REGISTRATION_NODE_AT)) {
    const owner = decodeRegistryRow(stored).fullNodeId;
    const reg = registrationOf(entry);
    throw new KeyledgerError(
      ErrorCode.NODE_ID_COLLISION,
      `slot ${owner & 0xffffn} of DEK ${reg.dekId} is owned by node ${formatNodeId(owner)}; node ${formatNodeId(reg.fullNodeId)} cannot register it`,
    );
  }
  const last = rowLastEpoch(stored);
  // 4. Same epoch: a Raft replay of an applied entry.
  if (epoch === last) return 'replayed';
  // 5. Epoch went backwards: the node would restart its write counter under a used epoch.
  if (epoch < last) {
    const reg = registrationOf(entry);
    throw new KeyledgerError(
      ErrorCode.LOCAL_EPOCH_ROLLBACK,
      `node ${formatNodeId(reg.fullNodeId)} registered epoch ${epoch} for DEK ${reg.dekId}, below its last seen epoch ${last}`,
    );
  }
  // 6. Epoch advanced: keep first, raise last.
  registryRowAt(stored, 0, rowFirstEpoch(stored), epoch, row);
  return 'advanced';
}
