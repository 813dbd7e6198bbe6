import { registrationDek, registrationEpoch, registrationNode, registrationSlot } from '../codec/registration.js';
import { REGISTRY_ROW_LENGTH } from '../codec/registry-row.js';
import type { RegistrationApplied } from './apply-result.js';
import type { RowTxn } from './apply-txn.js';
import { registrationRule } from './registration-rule.js';

/** Where the rule writes a new row; the transaction copies it into its own buffer. Applying is synchronous, so one suffices. */
const scratchRow = new Uint8Array(REGISTRY_ROW_LENGTH);

/**
 * Applies a well-formed registration entry (a lone one, a bootstrap batch row or a rotation's
 * proposer, all as 16 entry bytes) to a transaction whose row for it is prefetched: the
 * registration rule decides, and the new row, if any, is staged as the last step, so a halt
 * stages nothing.
 */
export function applyRegistration(txn: RowTxn, entry: Uint8Array): RegistrationApplied {
  const slot = registrationSlot(entry);
  const effect = registrationRule(txn.readRow(slot), entry, scratchRow);
  if (effect !== 'replayed') txn.putRow(slot, scratchRow);
  return { dekId: registrationDek(entry), fullNodeId: registrationNode(entry), localEpoch: registrationEpoch(entry), effect };
}
