import { ErrorCode, KeyledgerError, hasCode, reasonCode } from '@keyledger/core';
import type { Watcher } from 'etcd3';
import type { EtcdLog, LoggedEntry } from './etcd-log.js';
import { ledgerClosed } from './ledger-closed.js';

/** What the follower needs from its node: the applier's index, the apply itself, and a restore. */
export interface FollowerHost {
  /** The highest sequence number whose entry the local store holds (durably, or as a no-op). */
  appliedIndex(): bigint;
  /** Applies one entry at `seq`; a rejection stops the follower (the store keeps what it had). */
  apply(entry: Uint8Array, seq: bigint): Promise<void>;
  /**
   * Called when the log no longer holds the next entry this node needs (it was truncated):
   * restores the snapshot when it is ahead of the node. True when the applied index moved.
   */
  restoreSnapshot(): Promise<boolean>;
  onHalt(err: KeyledgerError): void;
}

export interface FollowerOptions {
  /** How often the follower re-reads the log even when the watch is quiet. */
  resyncIntervalMs: number;
  /** Entries per range read. */
  pageSize: number;
}

/** Entries buffered ahead of a gap before the follower drops them and re-reads instead. */
const MAX_PENDING = 4096;
const RETRY_MS = 250;

interface Waiter {
  index: bigint;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Applies the log in order, each entry once in effect, from the node's applied index on.
 *
 * The watch is the fast path; the range read is the source of truth. An entry is applied only
 * when it is the next one (`applied + 1`): a duplicate delivery is dropped, an entry ahead of a gap
 * is held until a range read fills the gap, and a watch that errs (a compacted revision, a
 * cancel) or disconnects marks the follower for a range read from its applied index — so reconnects,
 * leader changes and compaction of etcd's history all end in the same catch-up path. A periodic
 * re-read covers a watch that stalls silently.
 */
export class Follower {
  readonly #log: EtcdLog;
  readonly #host: FollowerHost;
  readonly #options: FollowerOptions;
  readonly #pending = new Map<bigint, Uint8Array>();
  readonly #waiters = new Set<Waiter>();
  #resync = true;
  #readRevision = 0n;
  #watcher: Watcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #draining: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #halt: KeyledgerError | undefined;

  constructor(log: EtcdLog, host: FollowerHost, options: FollowerOptions) {
    this.#log = log;
    this.#host = host;
    this.#options = options;
  }

  /** The halt that stopped this follower, if one did. */
  get halt(): KeyledgerError | undefined {
    return this.#halt;
  }

  /** Catches up to the head (rejecting if that fails), then follows. */
  async start(): Promise<void> {
    await this.#drain();
    if (this.#halt) throw this.#halt;
    await this.#ensureWatch();
    this.#timer = setInterval(() => this.wake(true), this.#options.resyncIntervalMs);
    this.#timer.unref();
  }

  /** Resolves once the node has applied through `index`; rejects if the follower halts or stops first. */
  waitFor(index: bigint): Promise<void> {
    if (this.#halt) return Promise.reject(this.#halt);
    if (this.#host.appliedIndex() >= index) return Promise.resolve();
    if (this.#stopped) return Promise.reject(ledgerClosed());
    return new Promise((resolve, reject) => {
      this.#waiters.add({ index, resolve, reject });
      this.wake(true);
    });
  }

  /** Schedules a drain; with `resync` it starts with a range read from the applied index. */
  wake(resync = false): void {
    if (this.#stopped) return;
    if (resync) this.#resync = true;
    if (this.#draining) {
      this.#again = true;
      return;
    }
    this.#draining = this.#drainLoop();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#draining;
    await this.#closeWatch();
    for (const w of this.#waiters) w.reject(this.#halt ?? ledgerClosed());
    this.#waiters.clear();
  }

  async #drainLoop(): Promise<void> {
    try {
      await this.#drainRounds();
    } finally {
      // Cleared in the same tick as the last `#again` check: a wake in between is never lost.
      this.#draining = undefined;
    }
  }

  async #drainRounds(): Promise<void> {
    do {
      this.#again = false;
      try {
        await this.#drain();
        await this.#ensureWatch();
      } catch (err) {
        if (this.#stopped) return;
        // An etcd failure is retried with a re-read; anything else (a snapshot that does not
        // decode, a restore that failed) stops the follower like a halt.
        if (!hasCode(err, ErrorCode.ETCD_UNAVAILABLE)) return this.#stopWith(stopError(err));
        this.#resync = true;
        await new Promise((r) => setTimeout(r, RETRY_MS).unref());
        this.#again = true;
      }
    } while (this.#again && !this.#stopped);
  }

  async #drain(): Promise<void> {
    while (!this.#stopped) {
      const next = this.#host.appliedIndex() + 1n;
      for (const seq of this.#pending.keys()) if (seq < next) this.#pending.delete(seq);
      const delivered = this.#pending.get(next);
      if (delivered !== undefined) {
        this.#pending.delete(next);
        if (!(await this.#applyOne({ seq: next, entry: delivered }))) return;
        continue;
      }
      if (!this.#resync && this.#pending.size === 0) return;
      // A gap (entries buffered beyond `next`) or a resync: the range read fills it.
      const page = await this.#log.read(next, this.#options.pageSize);
      const first = page.entries[0];
      if (first === undefined || first.seq !== next) {
        // Nothing past the head at the page's own revision (a head read later could name entries
        // appended since): caught up, the outcome of an idle node's every resync. Checked before
        // the snapshot, which is read and decoded whole; a snapshot of entries appended since the
        // page is found by the next read, which sees them.
        if (first === undefined && (await this.#log.head(page.revision)) < next) {
          // An entry the watch delivered during the read is newer than the page: apply it now.
          this.#resync = false;
          this.#readRevision = page.revision;
          if (this.#pending.has(next)) continue;
          return;
        }
        if (await this.#host.restoreSnapshot()) continue;
        return this.#stopWith(gapError(next));
      }
      let contiguous = true;
      for (const e of page.entries) {
        contiguous = e.seq === this.#host.appliedIndex() + 1n;
        if (!contiguous) break;
        if (!(await this.#applyOne(e))) return;
      }
      // A hole inside a page: the next read starts at it and reports the gap.
      if (contiguous && !page.more) {
        this.#resync = false;
        this.#readRevision = page.revision;
      }
    }
  }

  async #applyOne(e: LoggedEntry): Promise<boolean> {
    try {
      await this.#host.apply(e.entry, e.seq);
    } catch (err) {
      this.#stopWith(haltError(e, err));
      return false;
    }
    const applied = this.#host.appliedIndex();
    for (const w of this.#waiters) {
      if (w.index <= applied) {
        this.#waiters.delete(w);
        w.resolve();
      }
    }
    return true;
  }

  #stopWith(err: KeyledgerError): void {
    this.#halt = err;
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    void this.#closeWatch();
    for (const w of this.#waiters) w.reject(err);
    this.#waiters.clear();
    this.#host.onHalt(err);
  }

  async #ensureWatch(): Promise<void> {
    if (this.#watcher || this.#stopped) return;
    const watcher = await this.#log.watch(this.#readRevision + 1n);
    if (this.#stopped) {
      await watcher.cancel();
      return;
    }
    this.#watcher = watcher;
    watcher.on('put', (kv) => {
      const e = this.#log.entryOf(kv.key, kv.value);
      if (e === undefined || e.seq <= this.#host.appliedIndex()) return;
      if (this.#pending.size >= MAX_PENDING) {
        this.#pending.clear();
        this.#resync = true;
      } else {
        this.#pending.set(e.seq, e.entry);
      }
      this.wake();
    });
    watcher.on('disconnected', () => {
      this.#resync = true;
    });
    watcher.on('connected', () => this.wake(true));
    // A compacted start revision or a cancel ends this watch: re-read, then watch again.
    watcher.on('error', () => {
      if (this.#watcher === watcher) this.#watcher = undefined;
      void watcher.cancel().catch(() => undefined);
      this.wake(true);
    });
  }

  async #closeWatch(): Promise<void> {
    const w = this.#watcher;
    this.#watcher = undefined;
    await w?.cancel().catch(() => undefined);
  }
}

function gapError(seq: bigint): KeyledgerError {
  return new KeyledgerError(
    ErrorCode.LOG_GAP,
    `log entry ${seq} is missing from etcd and no snapshot covers it; the log was changed outside keyledger. Nothing was skipped`,
    { index: seq },
  );
}

function stopError(err: unknown): KeyledgerError {
  const detail = err instanceof Error ? err.message : String(err);
  return new KeyledgerError(ErrorCode.LEDGER_HALTED, `follower stopped: ${reasonCode(err) ?? 'unknown'}: ${detail}`, { cause: err });
}

function haltError(e: LoggedEntry, err: unknown): KeyledgerError {
  const opcode = e.entry.length > 0 ? `0x${e.entry[0]!.toString(16).padStart(2, '0')}` : 'empty';
  const reason = reasonCode(err) ?? 'unknown';
  const detail = err instanceof Error ? err.message : String(err);
  const what = hasCode(err, ErrorCode.NOT_ENCRYPTION_ENTRY) ? 'is not an encryption entry' : `halted: ${reason}: ${detail}`;
  return new KeyledgerError(ErrorCode.LEDGER_HALTED, `follower stopped at log entry ${e.seq} (opcode ${opcode}), which ${what}`, {
    cause: err,
    index: e.seq,
  });
}
