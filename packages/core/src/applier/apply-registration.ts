import { registrationKey, registrationOf, registrationSlot } from '../codec/registration.js';
import type { RegistrationApplied } from './apply-result.js';
import type { RowTxn } from './apply-txn.js';
import { registrationRule } from './registration-rule.js';

/**
 * Applies a well-formed registration entry (a lone one, a bootstrap batch row or a rotation's
 * proposer, all as 16 entry bytes) to a transaction whose row for it is prefetched: the
 * registration rule decides, and the new row, if any, is staged as the last step, so a halt
 * stages nothing.
 */
export function applyRegistration(txn: RowTxn, entry: Uint8Array): RegistrationApplied {
  const slot = registrationSlot(entry);
  const outcome = registrationRule(txn.readRow(slot), entry);
  if (outcome.row !== undefined) txn.putRow(slot, registrationKey(entry), outcome.row);
  return { ...registrationOf(entry), effect: outcome.effect };
}
