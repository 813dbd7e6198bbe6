import { isEncryptionOpcode } from '@keyledger/core';
import type { GeneratedLog } from './log-generator.js';
import type { Reference } from './reference.js';
import type { Rng } from './rng.js';

/**
 * The re-delivery side of the crash campaign (issue 11.1). A Raft host keeps its own applied
 * index, and a crash between keyledger's durable write and the host's bookkeeping makes Raft
 * re-deliver entries keyledger already applied. The child is killed right after `applyEntry`
 * resolved and before it acknowledged, and the next life starts from an index up to
 * {@link MAX_LAG} entries before the host's last acknowledgement (a host that records its index
 * lazily): every entry from there up to the killed one is a re-delivery.
 */
export const MAX_LAG = 8;

export interface Redelivery {
  /** Where the next life starts: at most MAX_LAG entries before the first unacknowledged one. */
  from: number;
  /** The highest entry keyledger applied before this life (the unacknowledged one included). */
  appliedTop: number;
  /**
   * An entry that may or may not have been applied before the kill (a kill from outside lands
   * before or after the write): `already-applied` is right for it too when it applied the first time.
   */
  inFlight?: number;
}

export function nextLife(rng: Rng, lastAck: number, killedBeforeAck: boolean): Redelivery {
  return { from: Math.max(1, lastAck + 1 - rng.int(0, MAX_LAG)), appliedTop: lastAck + (killedBeforeAck ? 1 : 0) };
}

/** The next life of the plain campaign: resume after the last ack; the entry in flight at the kill may have applied. */
export function resumeLife(lastAck: number, died: boolean): Redelivery {
  return { from: lastAck + 1, appliedTop: 0, ...(died ? { inFlight: lastAck + 1 } : {}) };
}

/** True when `outcome` is right for entry `i` in `life` (see {@link expectedOutcome} and `inFlight`). */
export function outcomeMatches(log: GeneratedLog, ref: Reference, life: Redelivery, i: number, outcome: string): boolean {
  if (outcome === expectedOutcome(log, ref, life.appliedTop, i)) return true;
  return i === life.inFlight && outcome === 'already-applied' && ref.outcomes[i] === 'ok';
}

/**
 * What entry `i` must answer in a life that re-delivers up to `appliedTop`: an encryption entry
 * at or below the highest index applied successfully is `already-applied` (never a halt, even one
 * that halted the first time: later entries were applied since); anything else answers as the
 * never-crashed run did.
 */
export function expectedOutcome(log: GeneratedLog, ref: Reference, appliedTop: number, i: number): string {
  let applied = appliedTop;
  while (applied > 0 && ref.outcomes[applied] !== 'ok') applied--;
  return i <= applied && isEncryptionOpcode(log.entries[i - 1]!.entry[0]!) ? 'already-applied' : ref.outcomes[i]!;
}
