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
}

/** What an applied entry did. */
export interface ApplyResult {
  kind: 'registration' | 'bootstrap' | 'rotation';
  /** 'inserted' | 'replayed' | 'advanced' for registrations; see each entry kind for the others. */
  effect: string;
}

/** One entry of a group commit. */
export interface IndexedEntry {
  entry: Uint8Array;
  /** The entry's raft index; needed for envelope cutovers and to raise the applied index. */
  index?: bigint;
}
