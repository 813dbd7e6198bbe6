import { ErrorCode, KeyledgerError, isHalt } from '../errors.js';
import type { AppliedEvent, ApplyResult } from './applier-options.js';

/**
 * The applier's applied index and its `onApplied` listeners (docs/design.md, section 'Encryptor').
 * Events go out synchronously, in log order; a listener that throws never affects applying.
 */
export class AppliedEvents {
  readonly #listeners = new Set<(event: AppliedEvent) => void>();
  #appliedIndex = 0n;

  get appliedIndex(): bigint {
    return this.#appliedIndex;
  }

  /** Raises the applied index (never lowers it), e.g. to the stored state's index on load. */
  raise(index: bigint): void {
    if (index > this.#appliedIndex) this.#appliedIndex = index;
  }

  subscribe(listener: (event: AppliedEvent) => void): () => void {
    if (typeof listener !== 'function') throw new KeyledgerError(ErrorCode.INVALID_ARGUMENT, 'onApplied needs a function');
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: AppliedEvent): void {
    if (!('halt' in event) && event.index !== undefined) this.raise(event.index);
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch {
        // A listener's failure is its own: applying goes on.
      }
    }
  }

  /** Emits the outcome of a lone entry's apply once it settles, and passes it on. */
  settle(index: bigint | undefined, run: Promise<ApplyResult>): Promise<ApplyResult> {
    return run.then(
      (result) => {
        this.emit({ index, result });
        return result;
      },
      (err: unknown) => {
        if (isHalt(err)) this.emit({ index, halt: err as KeyledgerError });
        throw err;
      },
    );
  }

  /** Emits a halt and returns it, for `throw events.halted(err, index)`. */
  halted(stop: KeyledgerError, index: bigint | undefined): KeyledgerError {
    this.emit({ index, halt: stop });
    return stop;
  }
}
