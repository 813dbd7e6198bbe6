import { ErrorCode, KeyledgerError } from '@keyledger/core';

/** ERR_LEDGER_CLOSED: what a ledger node's calls (and its follower's waits) get once it is closed. */
export function ledgerClosed(): KeyledgerError {
  return new KeyledgerError(ErrorCode.LEDGER_CLOSED, 'the ledger node was closed');
}
