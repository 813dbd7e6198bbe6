import type { KekUnwrapper } from '../crypto/kek.js';

export interface ApplierOptions {
  /**
   * Unwraps DEKs for bootstrap and rotation, and rebuilds the keystore when the applier opens.
   * Without it, registrations apply and bootstrap/rotation halt with ERR_KEK_NOT_CONFIGURED.
   */
  kek?: KekUnwrapper;
  /** Clock for a key's `created` time. Inject a fixed clock where state bytes must be reproducible. If it throws or returns no valid Date, the entry halts with ERR_HOST_CALLBACK. */
  now?: () => Date;
  /**
   * Called when the raft envelope key takes effect: on a fresh cutover, on a replay of an
   * applied cutover (with the stored cutover index and the current raft key), and after a raft
   * DEK rotation once cut over. It runs after every check and before the entry's durable write,
   * so it may run again when an entry is retried: make it idempotent. If it throws, the entry halts.
   */
  onRaftKeyInstalled?: (cutoverIndex: bigint, dekId: number) => void | Promise<void>;
}

/** One entry of a group commit. */
export interface IndexedEntry {
  entry: Uint8Array;
  /**
   * The entry's raft index, a bigint in 1..2^64-1. Pass it: an entry at or below the applied
   * index is recognised as re-delivered and resolves `already-applied` (Raft re-delivers after a
   * crash between keyledger's write and the host's own bookkeeping). Without it the entry gets no
   * such protection, and an envelope cutover needs it. `0n` counts as no index for that check.
   */
  index?: bigint;
}
