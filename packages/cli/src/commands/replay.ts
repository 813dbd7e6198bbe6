import { Command, Option } from 'commander';
import { Applier, isEncryptionOpcode, isHalt, isKeyledgerError } from '@keyledger/core';
import { positiveInt } from '../arguments.js';
import { ExitCode } from '../cli-error.js';
import { openKek } from '../kek-file.js';
import { readLog, scanLog, type LogRecord } from '../log-file.js';
import { hex, reasonOf, stderr, stdout } from '../output.js';
import { createProgress, type Progress } from '../progress.js';
import { DEFAULT_STORE, STORE_URI_HELP, formatStoreUri, parseStoreUri, withStore } from '../store-uri.js';

const OPCODE_NAMES: Record<number, string> = { 3: 'registration', 4: 'bootstrap', 5: 'rotation', 6: 'reserved', 7: 'reserved' };

export interface ReplayOptions {
  kek?: string;
  store: string;
  groupSize: number;
  json?: boolean;
  progressInterval: number;
}

/** Where and why a replay stopped. */
interface Halt {
  index: bigint;
  line: number;
  opcode: number;
  code: string | undefined;
  message: string;
}

interface ReplayOutcome {
  /** Encryption entries committed. */
  applied: number;
  /** Entries with a non-encryption opcode: the host's own, which this command has no host for. */
  hostEntries: number;
  /** Entries at or below the store's applied index when the run began: a host resumes after it. */
  alreadyApplied: number;
  halt: Halt | undefined;
}

/**
 * Streams the log into the applier in groups of `groupSize`, one `applyEntries` (one durable
 * write) per group. At a halt, `applyEntries` has committed the entries before the halted one;
 * nothing after it is read further.
 *
 * Entries at or below the state's applied index are skipped, as a Raft host resumes after its
 * applied index: re-applying them is not always a no-op (a bootstrap replayed after a rotation
 * halts with ERR_KEY_CONFLICT, by design).
 */
async function applyLog(applier: Applier, logPath: string, groupSize: number, progress: Progress | undefined): Promise<ReplayOutcome> {
  const outcome: ReplayOutcome = { applied: 0, hostEntries: 0, alreadyApplied: 0, halt: undefined };
  const resumeAfter = applier.appliedIndex;
  let read = 0;
  let group: (LogRecord & { ordinal: number })[] = [];
  const flush = async (): Promise<boolean> => {
    const batch = group;
    group = [];
    if (batch.length === 0) return true;
    try {
      await applier.applyEntries(batch);
      outcome.applied += batch.length;
      return true;
    } catch (err) {
      if (!isHalt(err)) throw err;
      const position = isKeyledgerError(err) ? (err.position ?? 0) : 0;
      const at = batch[position]!;
      outcome.applied += position;
      outcome.halt = { index: at.index, line: at.line, opcode: at.entry[0]!, ...reasonOf(err) };
      read = at.ordinal - 1;
      return false;
    }
  };
  for await (const record of readLog(logPath)) {
    read++;
    if (record.index <= resumeAfter) outcome.alreadyApplied++;
    else if (isEncryptionOpcode(record.entry[0]!)) group.push({ ...record, ordinal: read });
    else outcome.hostEntries++;
    if (group.length >= groupSize) {
      if (!(await flush())) break;
      progress?.update(read);
    }
  }
  if (outcome.halt === undefined) await flush();
  progress?.stop(read);
  return outcome;
}

function printHalt(halt: Halt, logPath: string): void {
  const c = stderr.c;
  const opcode = `opcode ${hex(halt.opcode, 2)} ${OPCODE_NAMES[halt.opcode] ?? ''}`.trimEnd();
  stderr.line(`${c.red(c.bold(`halted at raft index ${halt.index}`))} (${logPath}:${halt.line}), ${opcode}`);
  stderr.line(`  ${c.bold(halt.code ?? 'error')}: ${halt.message}`);
  if (halt.code === 'ERR_KEK_NOT_CONFIGURED') stderr.line('  hint: pass --kek FILE, the KEK the DEKs were wrapped with');
  stderr.line('  the entry was not applied and must not be skipped; nothing after it was applied');
}

/**
 * Applies a JSON Lines log with group commit. The whole file is validated first, so a malformed
 * line means nothing at all is applied. Returns 0 when every entry applied, 2 at a halt.
 */
export async function runReplay(logPath: string, options: ReplayOptions): Promise<number> {
  const uri = parseStoreUri(options.store);
  const { records } = await scanLog(logPath);
  const kek = await openKek(options.kek);
  const raftKeys: string[] = [];
  const started = performance.now();
  let result: ReplayOutcome & { appliedIndex: bigint | undefined };
  try {
    result = await withStore(uri, {}, async (store) => {
      const applier = await Applier.open(store, {
        ...(kek ? { kek } : {}),
        onRaftKeyInstalled: (cutover, dekId) => {
          raftKeys.push(`raft envelope key: DEK ${dekId} in effect from raft index ${cutover}`);
        },
      });
      try {
        const progress = options.json
          ? undefined
          : createProgress(stderr, 'replay', records, { unit: 'entries', intervalMs: options.progressInterval });
        const outcome = await applyLog(applier, logPath, options.groupSize, progress);
        // Raised by bootstrap and rotation entries only; there is no index before a bootstrap.
        const appliedIndex = applier.state.keys.size > 0 ? applier.appliedIndex : undefined;
        return { ...outcome, appliedIndex };
      } finally {
        await applier.close();
      }
    });
  } finally {
    kek?.close();
  }
  const { applied, hostEntries, alreadyApplied, halt, appliedIndex } = result;
  if (options.json) {
    stdout.line(
      JSON.stringify({
        store: formatStoreUri(uri),
        log: logPath,
        entries: records,
        applied,
        host_entries_skipped: hostEntries,
        already_applied_skipped: alreadyApplied,
        raft_applied_index: appliedIndex?.toString() ?? null,
        halt:
          halt === undefined
            ? null
            : {
                index: halt.index.toString(),
                line: halt.line,
                opcode: hex(halt.opcode, 2),
                code: halt.code ?? null,
                message: halt.message,
              },
      }),
    );
  } else {
    for (const k of raftKeys) stdout.line(k);
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    const skipped = [
      alreadyApplied > 0 ? `, skipped ${alreadyApplied} entries at or below the store's applied index` : '',
      hostEntries > 0 ? `, skipped ${hostEntries} host entries (not encryption opcodes)` : '',
    ].join('');
    const state = appliedIndex === undefined ? 'no encryption state (no bootstrap applied)' : `state applied index ${appliedIndex}`;
    stdout.line(`applied ${applied} of ${records} entries to ${formatStoreUri(uri)} in ${seconds}s${skipped}; ${state}`);
    if (halt !== undefined) printHalt(halt, logPath);
  }
  return halt === undefined ? ExitCode.OK : ExitCode.PROBLEM;
}

export function replayCommand(): Command {
  return new Command('replay')
    .description('apply a JSON Lines log of encryption entries ({"index": "<decimal>", "entry": "<hex>"}) with group commit')
    .argument('<log>', 'the JSON Lines log file')
    .option('--kek <file>', 'KEK file (32 bytes, mode 0600) the DEKs were wrapped with; needed for bootstrap and rotation entries')
    .option('--store <uri>', `store to apply to: ${STORE_URI_HELP}`, DEFAULT_STORE)
    .addOption(
      new Option('--group-size <n>', 'entries per durable write (group commit)').default(1000).argParser(positiveInt('--group-size')),
    )
    .addOption(
      new Option('--progress-interval <ms>', 'when stderr is not a terminal: milliseconds between progress lines')
        .default(1000)
        .argParser(positiveInt('--progress-interval')),
    )
    .option('--json', 'print the outcome as one JSON object on stdout (no progress output)')
    .addHelpText(
      'after',
      `
The whole log is validated before anything is applied. On a terminal stderr shows a progress
bar with rate and ETA; otherwise one progress line per --progress-interval.
Exit codes: 0 every entry applied, 2 halted at an entry (its index, opcode and reason are
printed), 1 usage error, malformed log line (nothing is applied) or I/O error.

Example:
  $ keyledger replay keyledger-demo-x1y2z3/demo-log.jsonl --kek keyledger-demo-x1y2z3/kek.bin --store lmdb:./replica-b`,
    )
    .action(async (log: string, options: ReplayOptions) => {
      process.exitCode = await runReplay(log, options);
    });
}
