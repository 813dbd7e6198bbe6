import { Command, Option } from 'commander';
import { Applier } from '@keyledger/core';
import { positiveInt } from '../arguments.js';
import { ExitCode } from '../cli-error.js';
import { openKek } from '../kek-file.js';
import { LogSnapshot } from '../log-file.js';
import { hex, jsonLine, stderr, stdout } from '../output.js';
import { createProgress } from '../progress.js';
import { type Halt, type ReplayOutcome, applyLog } from '../replay-log.js';
import { formatStoreUri, parseStoreUri, storeOption, withStore } from '../store-uri.js';

const OPCODE_NAMES: Record<number, string> = { 3: 'registration', 4: 'bootstrap', 5: 'rotation', 6: 'reserved', 7: 'reserved' };

/** The exit code of a process ended by Ctrl-C (128 + SIGINT), as shells report it. */
export const EXIT_INTERRUPTED = 130;

export interface ReplayOptions {
  kek?: string;
  store: string;
  groupSize: number;
  json?: boolean;
  progressInterval: number;
}

function printHalt(halt: Halt, logPath: string): void {
  const c = stderr.c;
  const opcode = `opcode ${hex(halt.opcode, 2)} ${OPCODE_NAMES[halt.opcode] ?? ''}`.trimEnd();
  stderr.line(`${c.red(c.bold(`halted at raft index ${halt.index}`))} (${logPath}:${halt.line}), ${opcode}`);
  stderr.line(`  ${c.bold(halt.code ?? 'error')}: ${halt.message}`);
  if (halt.code === 'ERR_KEK_NOT_CONFIGURED') stderr.line('  hint: pass --kek FILE, the KEK the DEKs were wrapped with');
  if (halt.code === 'ERR_STORE_IO') {
    stderr.line('  the store could not be written (a full disk, a read-only or failing device): fix it and run the same command to resume');
  } else {
    stderr.line('  the entry was not applied and must not be skipped; nothing after it was applied');
  }
}

/**
 * Ctrl-C: the first one stops the replay after the group commit in flight (what is committed
 * stays, re-running resumes after it); a second one exits at once, the cursor restored.
 */
function catchInterrupt(): { requested: () => boolean; release: () => void } {
  let requested = false;
  const handler = (): void => {
    if (requested) {
      if (stderr.isTTY) stderr.stream.write('\u001b[?25h\n');
      process.exit(EXIT_INTERRUPTED);
    }
    requested = true;
  };
  process.on('SIGINT', handler);
  return { requested: () => requested, release: () => process.off('SIGINT', handler) };
}

/** Validates the whole snapshot first, with progress on a long log; nothing is applied before. */
async function validate(log: LogSnapshot, options: ReplayOptions, interrupted: () => boolean): Promise<number> {
  const progress = options.json
    ? undefined
    : createProgress(stderr, 'validate', log.size, { unit: 'bytes', intervalMs: options.progressInterval, transient: true });
  let records = 0;
  let bytes = 0;
  try {
    for await (const _ of log.records((done) => {
      bytes = done;
      progress?.update(done);
    })) {
      records++;
      if (interrupted()) break;
    }
  } finally {
    progress?.stop(bytes);
  }
  return records;
}

type Result = ReplayOutcome & { records: number; appliedIndex: bigint | undefined };

function printOutcome(r: Result, options: ReplayOptions, storeName: string, logPath: string, raftKeys: string[], ms: number): void {
  if (options.json) {
    const halt = r.halt;
    stdout.line(
      jsonLine({
        store: storeName,
        log: logPath,
        entries: r.records,
        applied: r.applied,
        host_entries_skipped: r.hostEntries,
        already_applied_skipped: r.alreadyApplied,
        raft_applied_index: r.appliedIndex?.toString() ?? null,
        durable_index: r.durableIndex.toString(),
        interrupted: r.interrupted,
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
    return;
  }
  for (const k of raftKeys) stdout.line(k);
  const skipped = [
    r.alreadyApplied > 0 ? `, skipped ${r.alreadyApplied} entries at or below the store's applied index` : '',
    r.hostEntries > 0 ? `, skipped ${r.hostEntries} host entries (not encryption opcodes)` : '',
  ].join('');
  const state = r.appliedIndex === undefined ? 'no encryption state (no bootstrap applied)' : `state applied index ${r.appliedIndex}`;
  stdout.line(`applied ${r.applied} of ${r.records} entries to ${storeName} in ${(ms / 1000).toFixed(2)}s${skipped}; ${state}`);
  if (r.halt !== undefined) printHalt(r.halt, logPath);
}

function printInterrupted(durableIndex: bigint | undefined, storeName: string): void {
  const c = stderr.c;
  if (durableIndex === undefined) {
    stderr.line(c.yellow('interrupted while validating the log: nothing was applied'));
    return;
  }
  stderr.line(c.yellow(`interrupted: every entry up to raft index ${durableIndex} is durable in ${storeName}`));
  stderr.line(c.yellow('  run the same command again to resume from there'));
}

/**
 * Applies a JSON Lines log with group commit. The whole snapshot is validated first, so a
 * malformed line means nothing at all is applied. Returns 0 when every entry applied, 2 at a
 * halt, 1 for an I/O halt, 130 after Ctrl-C.
 */
export async function runReplay(logPath: string, options: ReplayOptions): Promise<number> {
  const uri = parseStoreUri(options.store);
  const storeName = formatStoreUri(uri);
  const interrupt = catchInterrupt();
  const log = await LogSnapshot.open(logPath);
  try {
    const records = await validate(log, options, interrupt.requested);
    if (interrupt.requested()) {
      printInterrupted(undefined, storeName);
      return EXIT_INTERRUPTED;
    }
    const kek = await openKek(options.kek);
    const raftKeys: string[] = [];
    const started = performance.now();
    let clock: Date | undefined;
    let result: Result;
    try {
      result = await withStore(uri, {}, async (store) => {
        const applier = await Applier.open(store, {
          ...(kek ? { kek } : {}),
          now: () => clock ?? new Date(),
          onRaftKeyInstalled: (cutover, dekId) => {
            raftKeys.push(`raft envelope key: DEK ${dekId} in effect from raft index ${cutover}`);
          },
        });
        try {
          const progress = options.json
            ? undefined
            : createProgress(stderr, 'replay', records, { unit: 'entries', intervalMs: options.progressInterval });
          const outcome = await applyLog(applier, log, {
            groupSize: options.groupSize,
            // The applier's applied index: the state's raft_applied_index or the applied-index record.
            resumeAfter: applier.appliedIndex,
            progress,
            interrupted: interrupt.requested,
            setClock: (time) => {
              clock = time;
            },
          });
          // Raised by bootstrap and rotation entries only; there is no index before a bootstrap.
          const appliedIndex = applier.state.keys.size > 0 ? applier.appliedIndex : undefined;
          return { ...outcome, records, appliedIndex };
        } finally {
          await applier.close();
        }
      });
    } finally {
      kek?.close();
    }
    printOutcome(result, options, storeName, logPath, raftKeys, performance.now() - started);
    if (result.interrupted) {
      if (!options.json) printInterrupted(result.durableIndex, storeName);
      return EXIT_INTERRUPTED;
    }
    if (result.halt?.code === 'ERR_STORE_IO') return ExitCode.ERROR;
    return result.halt === undefined ? ExitCode.OK : ExitCode.PROBLEM;
  } finally {
    interrupt.release();
    await log.close();
  }
}

export function replayCommand(): Command {
  return new Command('replay')
    .description('apply a JSON Lines log of encryption entries ({"index": "<decimal>", "entry": "<hex>"}) with group commit')
    .argument('<log>', 'the JSON Lines log file (a regular file; read as it is when the command starts)')
    .option('--kek <file>', 'KEK file (32 bytes, mode 0600) the DEKs were wrapped with; needed for bootstrap and rotation entries')
    .addOption(storeOption('store to apply to'))
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
The whole log (as it is when the command starts) is validated before anything is applied. On a
terminal stderr shows a progress bar with rate and ETA; otherwise one progress line per
--progress-interval. Ctrl-C stops after the group commit in flight and says where; running the
same command again resumes.
Exit codes: 0 every entry applied, 2 halted at an entry (its index, opcode and reason are
printed), 1 usage error, malformed log line (nothing is applied) or I/O error (a full disk
included), 130 interrupted by Ctrl-C.

Example:
  $ keyledger replay keyledger-demo-x1y2z3/demo-log.jsonl --kek keyledger-demo-x1y2z3/kek.bin --store lmdb:./replica-b`,
    )
    .action(async (log: string, options: ReplayOptions) => {
      process.exitCode = await runReplay(log, options);
    });
}
