import { type MaybeAsync, isThenable } from '../maybe-async.js';
import type { GroupItem } from './apply-group.js';
import type { ApplyResult } from './apply-result.js';

/** A call waiting for its entries to be applied; `grouped` for `applyEntries` (errors carry a position). */
export interface PendingCall {
  items: GroupItem[];
  grouped: boolean;
  /** Settles the call with its results: `results[from]` to `results[to - 1]` (the group's array, not copied for a lone call). */
  resolve(results: ApplyResult[], from: number, to: number): void;
  reject(err: unknown): void;
  /** A task that runs alone between groups, in call order: the Encryptor's write path (docs/design.md, section 'Encryptor'). */
  exclusive?: () => Promise<void>;
}

/**
 * Coalesces a group cap's worth of entries: large enough that a pipelined host pays one write
 * per many entries, small enough that one group's prefetch and staging stay bounded.
 */
export const MAX_COALESCED_ENTRIES = 4096;

/** Microtask turns a caller's `await applyEntry(…)` continuation takes to make its next call, with room to spare. */
const CALLER_MICROTASK_TURNS = 8;

/**
 * The applier's call queue (automatic group commit, docs/design.md, 'Group commit'). The
 * first call runs at once; calls made while a group is being applied and written wait, and the
 * next group takes all of them (up to {@link MAX_COALESCED_ENTRIES} entries, never splitting a
 * call). `commit` applies one group, settles its calls, and returns the calls it did not apply
 * (those after a stop), which go back to the front of the queue in order.
 */
export class PendingCalls {
  readonly #commit: (calls: PendingCall[]) => MaybeAsync<PendingCall[]>;
  readonly #queue: PendingCall[] = [];
  #draining: Promise<void> | undefined;

  constructor(commit: (calls: PendingCall[]) => MaybeAsync<PendingCall[]>) {
    this.#commit = commit;
  }

  add(items: GroupItem[], grouped: boolean): Promise<ApplyResult[]> {
    return new Promise((resolve, reject) =>
      this.#push({
        items,
        grouped,
        resolve: (results, from, to) => resolve(from === 0 && to === results.length ? results : results.slice(from, to)),
        reject,
      }),
    );
  }

  /** `add([item], false)` resolving with the one result: no second promise to unwrap it, no array to slice it from. */
  addOne(item: GroupItem): Promise<ApplyResult> {
    return new Promise((resolve, reject) =>
      this.#push({ items: [item], grouped: false, resolve: (results, from) => resolve(results[from]!), reject }),
    );
  }

  #push(call: PendingCall): void {
    this.#queue.push(call);
    this.#draining ??= this.#drain();
  }

  /** Queues `task` to run alone, after every call added before it and before every call added after. */
  exclusive(task: () => Promise<void>): void {
    this.#push({ items: [], grouped: false, resolve: () => undefined, reject: () => undefined, exclusive: task });
  }

  /** Resolves once every call added so far is settled. */
  async idle(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining;
  }

  async #drain(): Promise<void> {
    try {
      for (let first = true; ; first = false) {
        // After a commit, let the callers whose calls just resolved make their next calls before
        // the next group is taken, or a pipelined caller's group would split in two: a small one
        // taken before most of its calls arrive, and the rest behind it. Their continuations are
        // microtasks: a few microtask turns catch the usual ones at no cost, and one macrotask
        // turn (only when nothing came) catches longer chains. The first call runs at once.
        if (!first) await this.#callersTurn();
        if (this.#queue.length === 0) return;
        const task = this.#queue[0]!.exclusive;
        if (task !== undefined) {
          this.#queue.shift();
          await task().catch(() => undefined);
          continue;
        }
        const group = this.#take();
        let rest: PendingCall[];
        try {
          const committed = this.#commit(group);
          // Awaited only when the commit is asynchronous: over a synchronous backend, a turn here
          // would delay every sequential caller by one more turn of the microtask queue.
          rest = isThenable(committed) ? await committed : committed;
        } catch (err) {
          // commit settles its calls itself; should it fail anyway, no call may hang.
          for (const call of group) call.reject(err);
          rest = [];
        }
        this.#queue.unshift(...rest);
      }
    } finally {
      this.#draining = undefined;
    }
  }

  async #callersTurn(): Promise<void> {
    // Callers resolved by one commit run their continuations in step, so their next calls arrive
    // within the same turn: once a turn brings none after some have come, the group is whole. A
    // sequential caller's next call is then taken two turns after it arrives, not eight.
    for (let i = 0; i < CALLER_MICROTASK_TURNS; i++) {
      const before = this.#queue.length;
      await undefined;
      if (before > 0 && this.#queue.length === before) return;
    }
    if (this.#queue.length === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  #take(): PendingCall[] {
    let n = 1;
    let size = this.#queue[0]!.items.length;
    while (
      n < this.#queue.length &&
      this.#queue[n]!.exclusive === undefined &&
      size + this.#queue[n]!.items.length <= MAX_COALESCED_ENTRIES
    ) {
      size += this.#queue[n]!.items.length;
      n++;
    }
    return this.#queue.splice(0, n);
  }
}
