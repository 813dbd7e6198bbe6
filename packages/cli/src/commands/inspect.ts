import type { Command } from 'commander';
import { ExitCode } from '../cli-error.js';
import { jsonLine, stdout, stderr } from '../output.js';
import { readReport, renderState, renderWriters, reportToJson } from '../report.js';
import { formatStoreUri, parseStoreUri, storeReadingCommand, withStore } from '../store-uri.js';

export interface InspectOptions {
  store: string;
  json?: boolean;
}

/**
 * Prints the state (active ids, cutovers, applied index) and the writer table per DEK. Reads the
 * store directly, without a KEK: nothing is unwrapped and no key bytes, wrapped or not, are shown.
 * Exits 1 when a registry row is damaged.
 */
export async function runInspect(options: InspectOptions): Promise<number> {
  const uri = parseStoreUri(options.store);
  const report = await withStore(uri, { create: false }, readReport);
  const name = formatStoreUri(uri);
  if (options.json) {
    stdout.line(jsonLine(reportToJson(report, name), true));
  } else {
    stdout.line(renderState(report, name, stdout.c));
    stdout.line();
    stdout.line(renderWriters(report, stdout.c));
  }
  if (report.problems.length > 0) {
    stderr.line(stderr.c.red(`${report.problems.length} damaged registry rows: the next registration of those slots will halt`));
    return ExitCode.ERROR;
  }
  return ExitCode.OK;
}

export function inspectCommand(): Command {
  return storeReadingCommand('inspect', 'show the encryption state and the writer table per DEK (never key bytes)')
    .option('--json', 'print one JSON document instead of tables (indices as decimal strings, node ids as hex)')
    .addHelpText(
      'after',
      `
Exit codes: 0 shown, 1 no such store, unreadable state or damaged registry rows.

Example:
  $ keyledger inspect --store lmdb:./replica-b --json`,
    )
    .action(async (options: InspectOptions) => {
      process.exitCode = await runInspect(options);
    });
}
