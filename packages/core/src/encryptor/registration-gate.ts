import type { AppliedEvent } from '../applier/apply-result.js';
import { encodeRegistration } from '../codec/registration.js';
import { ErrorCode, KeyledgerError, reasonCode } from '../errors.js';

/** What `registered(index)` concludes about the entry at `index`, for the current epoch. */
export type Verdict =
  | { kind: 'pending' }
  | { kind: 'registered' }
  /** `bumpAgain`: the epoch may have been used by an earlier life of this node; it must not be used. */
  | { kind: 'refused'; error: KeyledgerError; bumpAgain: boolean };

/** What the log did at an index, as far as this node's registration under this DEK is concerned. */
type Sighting = 'took-effect' | 'replayed' | 'superseded' | 'already-applied' | { halt: KeyledgerError };

function rollback(message: string): Verdict {
  return { kind: 'refused', error: new KeyledgerError(ErrorCode.LOCAL_EPOCH_ROLLBACK, message), bumpAgain: true };
}

/**
 * The registration gate of one (DEK, epoch) of one node (docs/design.md, section 'Encryptor').
 * It opens only when the entry at the index the host's proposal got applied *this* registration
 * with effect inserted or advanced, after the epoch was bumped. A row at this epoch is not enough:
 * a restored node's catch-up re-applies its previous life's registration of the same epoch (same
 * bytes), and its own proposal then applies as a replay; neither opens the gate.
 */
export class RegistrationGate {
  readonly dekId: number;
  readonly epoch: number;
  readonly nodeId: bigint;
  /** The applier's applied index when the epoch was bumped: nothing at or below it can be this registration. */
  readonly startIndex: bigint;
  readonly #sightings = new Map<bigint, Sighting>();
  #haltedAt: { index: bigint | undefined; error: KeyledgerError } | undefined;
  #registeredAt: bigint | undefined;
  /** A 'superseded' or 'replayed' sighting was recorded (sightings are never removed). */
  #usedUp = false;

  constructor(dekId: number, epoch: number, nodeId: bigint, startIndex: bigint) {
    this.dekId = dekId;
    this.epoch = epoch;
    this.nodeId = nodeId;
    this.startIndex = startIndex;
  }

  /** The 0x03 entry the host must replicate for this epoch. */
  entry(): Uint8Array {
    return encodeRegistration({ dekId: this.dekId, fullNodeId: this.nodeId, localEpoch: this.epoch });
  }

  get isOpen(): boolean {
    return this.#registeredAt !== undefined;
  }

  /**
   * True when the log proved this epoch used up before the gate opened: it applied a later epoch
   * for this node, or replayed this one (so an earlier entry registered it). Proposing it could
   * only replay or halt every replica, so the Encryptor bumps again at once.
   */
  get isBurned(): boolean {
    // A flag, not a scan of the sightings: this is asked on every applied event, and a long
    // catch-up of re-deliveries records one sighting each.
    return !this.isOpen && this.#usedUp;
  }

  /** Records what an applied entry means for this registration. Called for every event, in log order. */
  observe(event: AppliedEvent): void {
    if ('halt' in event) {
      this.#haltedAt ??= { index: event.index, error: event.halt };
      if (event.index !== undefined && event.index > this.startIndex) this.#sightings.set(event.index, { halt: event.halt });
      return;
    }
    if (event.index === undefined || event.index <= this.startIndex) return;
    if (event.result.kind === 'already-applied') {
      // A re-delivery: whatever the entry there was, it applied before, so it is not this proposal.
      if (!this.#sightings.has(event.index)) this.#sightings.set(event.index, 'already-applied');
      return;
    }
    for (const r of event.result.registrations) {
      if (r.dekId !== this.dekId || r.fullNodeId !== this.nodeId || r.localEpoch < this.epoch) continue;
      const sighting: Sighting = r.localEpoch > this.epoch ? 'superseded' : r.effect === 'replayed' ? 'replayed' : 'took-effect';
      // A later sighting never replaces the first at one index (an entry applies once).
      if (this.#sightings.has(event.index)) continue;
      this.#sightings.set(event.index, sighting);
      if (sighting !== 'took-effect') this.#usedUp = true;
    }
  }

  /** The verdict for the host's claim "my proposal of `entry()` got log index `index`". */
  verdict(index: bigint, appliedIndex: bigint): Verdict {
    if (this.#registeredAt === index) return { kind: 'registered' };
    if (index <= this.startIndex) {
      return rollback(`index ${index} was applied before epoch ${this.epoch} was bumped: it cannot hold this registration`);
    }
    const seen = this.#sightings.get(index);
    if (seen === 'took-effect') {
      this.#registeredAt ??= index;
      return { kind: 'registered' };
    }
    if (seen === 'replayed') {
      return rollback(
        `the registration at index ${index} applied as a replay: epoch ${this.epoch} of DEK ${this.dekId} was registered before, by an earlier life of this node`,
      );
    }
    if (seen === 'already-applied') {
      return rollback(`the entry at index ${index} was already applied: it cannot be this registration's first application`);
    }
    if (seen === 'superseded') {
      return rollback(`index ${index} registered a later epoch than ${this.epoch} for this node under DEK ${this.dekId}`);
    }
    if (seen !== undefined) {
      if (reasonCode(seen.halt) === ErrorCode.LOCAL_EPOCH_ROLLBACK) {
        return {
          kind: 'refused',
          error: new KeyledgerError(ErrorCode.LOCAL_EPOCH_ROLLBACK, `the registration at index ${index} halted: ${seen.halt.message}`, {
            cause: seen.halt,
          }),
          bumpAgain: true,
        };
      }
      return { kind: 'refused', error: seen.halt, bumpAgain: false };
    }
    const halted = this.#haltedAt;
    if (halted !== undefined && (halted.index === undefined || halted.index < index)) {
      return { kind: 'refused', error: halted.error, bumpAgain: false };
    }
    if (index <= appliedIndex) {
      return {
        kind: 'refused',
        error: new KeyledgerError(
          ErrorCode.WRITER_NOT_REGISTERED,
          `the entry at index ${index} is not this node's registration of epoch ${this.epoch}: propose enc.registration() and pass the index it gets`,
        ),
        bumpAgain: false,
      };
    }
    return { kind: 'pending' };
  }
}
