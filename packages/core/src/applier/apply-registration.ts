import { registryKey } from '../codec/registry-key.js';
import { decodeRegistryRow, encodeRegistryRow } from '../codec/registry-row.js';
import type { Registration } from '../codec/registration.js';
import { ErrorCode, KeyledgerError } from '../errors.js';
import type { EntryTxn } from './apply-txn.js';

/** What a registration did to its slot. */
export type RegistrationEffect = 'inserted' | 'replayed' | 'advanced';

function hex64(v: bigint): string {
  return `0x${v.toString(16).padStart(16, '0')}`;
}

/**
 * Applies one writer registration (SPEC §6.1). The order of the checks is the contract:
 * a collision is reported before any epoch comparison, and a malformed row is never read as
 * missing — either mistake would let two writers, or one writer twice, draw the same nonces.
 */
export async function applyRegistration(txn: EntryTxn, reg: Registration): Promise<RegistrationEffect> {
  const key = registryKey(reg.dekId, reg.fullNodeId);
  const stored = await txn.get(key);
  // 1. No row: the slot is free for this node.
  if (stored === undefined) {
    txn.put(key, encodeRegistryRow({ fullNodeId: reg.fullNodeId, firstSeenEpoch: reg.localEpoch, lastSeenEpoch: reg.localEpoch }));
    return 'inserted';
  }
  // 2. A damaged row halts (decodeRegistryRow raises ERR_REGISTRY_VALUE_MALFORMED).
  const row = decodeRegistryRow(stored);
  // 3. Another node owns the 16-bit slot.
  if (row.fullNodeId !== reg.fullNodeId) {
    throw new KeyledgerError(
      ErrorCode.NODE_ID_COLLISION,
      `slot ${row.fullNodeId & 0xffffn} of DEK ${reg.dekId} is owned by node ${hex64(row.fullNodeId)}; node ${hex64(reg.fullNodeId)} cannot register it`,
    );
  }
  // 4. Same epoch: a Raft replay of an applied entry.
  if (reg.localEpoch === row.lastSeenEpoch) return 'replayed';
  // 5. Epoch went backwards: the node would restart its write counter under a used epoch.
  if (reg.localEpoch < row.lastSeenEpoch) {
    throw new KeyledgerError(
      ErrorCode.LOCAL_EPOCH_ROLLBACK,
      `node ${hex64(reg.fullNodeId)} registered epoch ${reg.localEpoch} for DEK ${reg.dekId}, below its last seen epoch ${row.lastSeenEpoch}`,
    );
  }
  // 6. Epoch advanced: keep first, raise last.
  txn.put(key, encodeRegistryRow({ fullNodeId: row.fullNodeId, firstSeenEpoch: row.firstSeenEpoch, lastSeenEpoch: reg.localEpoch }));
  return 'advanced';
}
