import type { KeyledgerError } from '../errors.js';
import type { KekUnwrapper } from '../crypto/kek.js';

export interface ApplierOptions {
  /**
   * Unwraps DEKs for bootstrap and rotation, and rebuilds the keystore when the applier opens.
   * Without it, registrations apply and bootstrap/rotation halt with ERR_KEK_NOT_CONFIGURED.
   */
  kek?: KekUnwrapper;
  /** Clock for a key's `created` time. Inject a fixed clock where state bytes must be reproducible. */
  now?: () => Date;
  /**
   * Called when the raft envelope key takes effect: on a fresh cutover, on a replay of an
   * applied cutover (with the stored cutover index and the current raft key), and after a raft
   * DEK rotation once cut over. It runs after every check and before the entry's durable write,
   * so it may run again when an entry is retried: make it idempotent. If it throws, the entry halts.
   */
  onRaftKeyInstalled?: (cutoverIndex: bigint, dekId: number) => void | Promise<void>;
  /**
   * This replica's full node id, when an Encryptor writes from it. A bootstrap or DEK rotation
   * that names this node (batch row, proposer) then starts the new key's `local_epoch` at the
   * epoch it registered for it rather than 0, so the node's next Encryptor bumps past it instead
   * of refusing with ERR_LOCAL_EPOCH_ROLLBACK: elastickv's `WithLocalEpoch` carry-over
   * (docs/design.md, section 'Encryptor').
   */
  localNodeId?: bigint;
}

/** One registration an entry applied: a registration entry's own, a bootstrap's batch rows, a rotation's proposer. */
export interface RegistrationApplied {
  dekId: number;
  fullNodeId: bigint;
  localEpoch: number;
  effect: 'inserted' | 'advanced' | 'replayed';
}

/** What `onApplied` listeners receive: an entry's result, or the halt that stopped applying at it. */
export type AppliedEvent = { index: bigint | undefined; result: ApplyResult } | { index: bigint | undefined; halt: KeyledgerError };

/** What an applied entry did. */
export interface ApplyResult {
  kind: 'registration' | 'bootstrap' | 'rotation';
  /** 'inserted' | 'replayed' | 'advanced' for registrations; see each entry kind for the others. */
  effect: string;
  /** The registrations the entry applied, with their effect (registration entries; decision 3 extends it). */
  registrations?: readonly RegistrationApplied[];
}

/** One entry of a group commit. */
export interface IndexedEntry {
  entry: Uint8Array;
  /** The entry's raft index; needed for envelope cutovers and to raise the applied index. */
  index?: bigint;
}
