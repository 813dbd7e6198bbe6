import { type Applier, isEncryptionOpcode, isHalt, isKeyledgerError } from '@keyledger/core';
import type { LogRecord, LogSnapshot } from './log-file.js';
import { reasonOf } from './output.js';
import type { Progress } from './progress.js';

/** Where and why a replay stopped. */
export interface Halt {
  index: bigint;
  line: number;
  opcode: number;
  code: string | undefined;
  message: string;
}

export interface ReplayOutcome {
  /** Encryption entries committed. */
  applied: number;
  /** Entries with a non-encryption opcode: the host's own, which this command has no host for. */
  hostEntries: number;
  /** Entries at or below the store's applied index when the run began: a host resumes after it. */
  alreadyApplied: number;
  /** The highest raft index whose effects are durable in the store. */
  durableIndex: bigint;
  halt: Halt | undefined;
  /** Stopped by Ctrl-C (SIGINT) between two group commits. */
  interrupted: boolean;
}

export interface ApplyLogOptions {
  groupSize: number;
  /** Entries at or below this index are skipped: the store's effective applied index. */
  resumeAfter: bigint;
  progress: Progress | undefined;
  /** Set by the SIGINT handler; checked between group commits. */
  interrupted: () => boolean;
  /** Sets the clock the applier reads for a key's `created` (undefined: the machine's clock). */
  setClock: (time: Date | undefined) => void;
}

type Pending = LogRecord & { ordinal: number };

/** Bootstrap and rotation entries install keys: the only ones that read the clock. */
const installsKey = (r: LogRecord): boolean => r.entry[0] === 0x04 || r.entry[0] === 0x05;

/**
 * Streams the log snapshot into the applier in groups of `groupSize`, one `applyEntries` (one
 * durable write) per group. At a halt, `applyEntries` has committed the entries before the
 * halted one; nothing after it is read further. An entry that carries its `time` and installs a
 * key is applied in a group of its own with the clock set to that time, so `created` is the
 * original's.
 */
export async function applyLog(applier: Applier, log: LogSnapshot, options: ApplyLogOptions): Promise<ReplayOutcome> {
  const outcome: ReplayOutcome = {
    applied: 0,
    hostEntries: 0,
    alreadyApplied: 0,
    durableIndex: options.resumeAfter,
    halt: undefined,
    interrupted: false,
  };
  let read = 0;
  let group: Pending[] = [];
  const flush = async (): Promise<boolean> => {
    const batch = group;
    group = [];
    if (batch.length === 0) return true;
    try {
      await applier.applyEntries(batch);
      outcome.applied += batch.length;
      outcome.durableIndex = batch[batch.length - 1]!.index;
      return true;
    } catch (err) {
      if (!isHalt(err)) throw err;
      const position = isKeyledgerError(err) ? (err.position ?? 0) : 0;
      const at = batch[position]!;
      outcome.applied += position;
      if (position > 0) outcome.durableIndex = batch[position - 1]!.index;
      outcome.halt = { index: at.index, line: at.line, opcode: at.entry[0]!, ...reasonOf(err) };
      read = at.ordinal - 1;
      return false;
    }
  };
  const step = async (): Promise<boolean> => {
    if (!(await flush())) return false;
    options.progress?.update(read);
    if (options.interrupted()) {
      outcome.interrupted = true;
      return false;
    }
    return true;
  };
  for await (const record of log.records()) {
    read++;
    if (record.index <= options.resumeAfter) {
      outcome.alreadyApplied++;
    } else if (!isEncryptionOpcode(record.entry[0]!)) {
      outcome.hostEntries++;
    } else if (record.time !== undefined && installsKey(record)) {
      if (!(await step())) break;
      group.push({ ...record, ordinal: read });
      options.setClock(record.time);
      const ok = await step();
      options.setClock(undefined);
      if (!ok) break;
    } else {
      group.push({ ...record, ordinal: read });
    }
    if (group.length >= options.groupSize && !(await step())) break;
  }
  if (outcome.halt === undefined && !outcome.interrupted) await flush();
  options.progress?.stop(read);
  return outcome;
}
