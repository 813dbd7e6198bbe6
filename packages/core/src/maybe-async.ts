/**
 * A value now, or a promise of it. The applier's path from a call to its durable write stays
 * synchronous over a backend that answers synchronously (lmdb, better-sqlite3) and awaits only
 * what is really asynchronous (a LevelDB read, a KEK unwrap): every await on that path is a turn of
 * the microtask queue, and right after a synced commit, with the CPU's caches cold, the turns of
 * one per-entry apply cost more than its own code (docs/design.md, 'Group commit').
 */
export type MaybeAsync<T> = T | Promise<T>;

export function isThenable<T>(v: T | PromiseLike<T>): v is PromiseLike<T> {
  return typeof (v as { then?: unknown } | undefined)?.then === 'function';
}

/** `next(value)` at once when `value` is here, after it settles when it is a promise. */
export function andThen<T, R>(value: MaybeAsync<T>, next: (v: T) => MaybeAsync<R>): MaybeAsync<R> {
  return isThenable(value) ? value.then(next) : next(value);
}
