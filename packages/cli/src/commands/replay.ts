import { Command, Option } from 'commander';
import { Applier, isEncryptionOpcode, isHalt, isKeyledgerError, type RegistryStore } from '@keyledger/core';
import { positiveInt } from '../arguments.js';
import { ExitCode } from '../cli-error.js';
import { openKek } from '../kek-file.js';
import { readLog, scanLog, type LogRecord } from '../log-file.js';
import { hex, reasonOf, stderr, stdout } from '../output.js';
import { createProgress } from '../progress.js';
import { DEFAULT_STORE, STORE_URI_HELP, formatStoreUri, openStore, parseStoreUri } from '../store-uri.js';

const OPCODE_NAMES: Record<number, string> = { 0x03: 'registration', 0x04: 'bootstrap', 0x05: 'rotation', 0x06: 'reserved', 0x07: 'reserved' };

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

/**
 * Applies a JSON Lines log with group commit. The whole file is validated first, so a malformed
 * line means nothing at all is applied; then it is applied in groups of `groupSize` entries, one
 * durable write per group. At a halt the entries before the halted one are committed (its own
 * group included), the halted one and everything after it are not.
 */
export async function replay(logPath: string, options: ReplayOptions): Promise<number> {
  const uri = parseStoreUri(options.store);
  const scan = await scanLog(logPath);
  const kek = await openKek(options.kek);
  let store: RegistryStore | undefined;
  let applier: Applier | undefined;
  const raftKeys: string[] = [];
  const started = performance.now();
  let applied = 0;
  let hostEntries = 0;
  let halt: Halt | undefined;
  let appliedIndex = 0n;
  try {
    store = await openStore(uri);
    applier = await Applier.open(store, {
      ...(kek ? { kek } : {}),
      onRaftKeyInstalled: (cutover, dekId) => {
        raftKeys.push(`raft envelope key: DEK ${dekId} in effect from raft index ${cutover}`);
      },
    });
    const progress = options.json ? undefined : createProgress(stderr, 'replay', scan.records, { unit: 'entries', intervalMs: options.progressInterval });
    let done = 0;
    let group: (LogRecord & { ordinal: number })[] = [];
    const flush = async (): Promise<boolean> => {
      const batch = group;
      group = [];
      if (batch.length === 0) return true;
      try {
        await applier!.applyEntries(batch);
        applied += batch.length;
        return true;
      } catch (err) {
        if (!isHalt(err)) throw err;
        const position = isKeyledgerError(err) ? (err.position ?? 0) : 0;
        applied += position;
        const at = batch[position]!;
        halt = { index: at.index, line: at.line, opcode: at.entry[0]!, ...reasonOf(err) };
        done = at.ordinal - 1;
        return false;
      }
    };
    for await (const record of readLog(logPath)) {
      done++;
      // Not an encryption opcode: the host's own entry, which this command has no host to apply.
      if (!isEncryptionOpcode(record.entry[0]!)) {
        hostEntries++;
      } else {
        group.push({ ...record, ordinal: done });
      }
      if (group.length >= options.groupSize) {
        if (!(await flush())) break;
        progress?.update(done);
      }
    }
    if (halt === undefined) await flush();
    progress?.stop(done);
    appliedIndex = applier.state.raftAppliedIndex;
  } finally {
    await applier?.close();
    await store?.close();
    kek?.close();
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  if (options.json) {
    stdout.line(
      JSON.stringify({
        store: formatStoreUri(uri),
        log: logPath,
        entries: scan.records,
        applied,
        host_entries_skipped: hostEntries,
        raft_applied_index: appliedIndex.toString(),
        halt: halt === undefined ? null : { index: halt.index.toString(), line: halt.line, opcode: hex(halt.opcode, 2), code: halt.code ?? null, message: halt.message },
      }),
    );
  } else {
    for (const k of raftKeys) stdout.line(k);
    const skipped = hostEntries > 0 ? `, skipped ${hostEntries} host entries (not encryption opcodes)` : '';
    stdout.line(`applied ${applied} of ${scan.records} entries to ${formatStoreUri(uri)} in ${seconds}s${skipped}; applied index is ${appliedIndex}`);
    if (halt !== undefined) {
      const c = stderr.c;
      stderr.line(c.red(c.bold(`halted at raft index ${halt.index}`)) + ` (${logPath}:${halt.line}), opcode ${hex(halt.opcode, 2)} ${OPCODE_NAMES[halt.opcode] ?? ''}`.trimEnd());
      stderr.line(`  ${c.bold(halt.code ?? 'error')}: ${halt.message}`);
      if (halt.code === 'ERR_KEK_NOT_CONFIGURED') stderr.line('  hint: pass --kek FILE, the KEK the DEKs were wrapped with');
      stderr.line('  the entry was not applied and must not be skipped; nothing after it was applied');
    }
  }
  return halt === undefined ? ExitCode.OK : ExitCode.PROBLEM;
}

export function replayCommand(): Command {
  return new Command('replay')
    .description('apply a JSON Lines log of encryption entries ({"index": "<decimal>", "entry": "<hex>"}) with group commit')
    .argument('<log>', 'the JSON Lines log file')
    .option('--kek <file>', 'KEK file (32 bytes, mode 0600) the DEKs were wrapped with; needed for bootstrap and rotation entries')
    .option('--store <uri>', `store to apply to: ${STORE_URI_HELP}`, DEFAULT_STORE)
    .addOption(new Option('--group-size <n>', 'entries per durable write (group commit)').default(1000).argParser(positiveInt('--group-size')))
    .addOption(new Option('--progress-interval <ms>', 'when stderr is not a terminal: milliseconds between progress lines').default(1000).argParser(positiveInt('--progress-interval')))
    .option('--json', 'print the outcome as one JSON object on stdout (no progress output)')
    .addHelpText(
      'after',
      `
Exit codes: 0 every entry applied, 2 halted at an entry (its index, opcode and reason are
printed), 1 usage error, malformed log line (nothing is applied) or I/O error.

Example:
  $ keyledger replay keyledger-demo-x1y2z3/demo-log.jsonl --kek keyledger-demo-x1y2z3/kek.bin --store lmdb:./replica-b`,
    )
    .action(async (log: string, options: ReplayOptions) => {
      process.exitCode = await replay(log, options);
    });
}
