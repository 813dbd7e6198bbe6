import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, Option } from 'commander';
import type { RegistryStore } from '@keyledger/core';
import { runConformance, type CaseResult } from '@keyledger/core/conformance';
import { positiveInt } from '../arguments.js';
import { CliError, ExitCode } from '../cli-error.js';
import { stdout, stderr } from '../output.js';

export interface ConformanceCommandOptions {
  filter?: string;
  json?: boolean;
  crashRounds?: number;
  tmpDir?: string;
}

/** What a backend module exports for `keyledger conformance`. */
interface BackendModule {
  openStore(dir: string): Promise<RegistryStore> | RegistryStore;
  /** Optional: makes the backend fail under the store, for the ERR_STORE_IO cases. */
  breakBackend?(store: RegistryStore): Promise<void> | void;
  /** Optional: makes the store's next persist fail, for the failed-persist case. */
  failNextWrite?(store: RegistryStore): Promise<void> | void;
  /** Optional: `false` for a store that keeps nothing across close (the reopen cases are skipped). */
  durable?: boolean;
  /** Optional: the name shown in the report. */
  name?: string;
}

async function loadBackend(path: string): Promise<BackendModule> {
  if (!existsSync(path)) throw new CliError(`no module at ${path}`);
  let mod: Partial<BackendModule>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Partial<BackendModule>;
  } catch (err) {
    throw new CliError(`cannot import ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (typeof mod.openStore !== 'function') {
    throw new CliError(`${path} does not export a function openStore(dir) returning a RegistryStore`);
  }
  for (const hook of ['breakBackend', 'failNextWrite'] as const) {
    if (mod[hook] !== undefined && typeof mod[hook] !== 'function') throw new CliError(`${path} exports ${hook}, but it is not a function`);
  }
  if (mod.durable !== undefined && typeof mod.durable !== 'boolean') throw new CliError(`${path} exports durable, but it is not a boolean`);
  return mod as BackendModule;
}

function caseLine(r: CaseResult): string[] {
  const c = stdout.c;
  const name = `${r.group} › ${r.name}`;
  switch (r.status) {
    case 'passed':
      return [`${c.green('pass')}  ${name} ${c.dim(`(${Math.round(r.durationMs)} ms)`)}`];
    case 'skipped':
      return [`${c.yellow('skip')}  ${name} ${c.dim(`— ${r.reason ?? 'no reason given'}`)}`];
    case 'failed':
      return [`${c.red(c.bold('FAIL'))}  ${name}`, ...(r.reason ?? 'no reason given').split('\n').map((l) => `      ${c.red(l)}`)];
  }
}

/**
 * Runs the conformance suite (docs/design.md, 'Conformance suite') against a backend module, in this process; the crash cases
 * import the module again in child processes and SIGKILL them. A case that cannot run is skipped
 * with its reason, never counted as passed.
 */
export async function runConformanceCommand(module: string, options: ConformanceCommandOptions): Promise<number> {
  const path = resolve(module);
  const backend = await loadBackend(path);
  const name = typeof backend.name === 'string' ? backend.name : basename(path);
  if (!options.json) stdout.line(stdout.c.bold(`conformance: ${name} (${path})`));
  const report = await runConformance({
    name,
    open: (dir) => backend.openStore(dir),
    module: path,
    ...(backend.breakBackend ? { breakBackend: (store: RegistryStore) => backend.breakBackend!(store) } : {}),
    ...(backend.failNextWrite ? { failNextWrite: (store: RegistryStore) => backend.failNextWrite!(store) } : {}),
    ...(backend.durable === undefined ? {} : { durable: backend.durable }),
    ...(options.crashRounds === undefined ? {} : { crashRounds: options.crashRounds }),
    ...(options.tmpDir === undefined ? {} : { tmpDir: resolve(options.tmpDir) }),
    ...(options.filter === undefined ? {} : { filter: options.filter }),
    onCase: (r) => {
      if (!options.json) for (const l of caseLine(r)) stdout.line(l);
    },
  });
  if (options.json) {
    stdout.line(JSON.stringify(report, null, 2));
  } else {
    const c = stdout.c;
    const failed = report.failed > 0 ? c.red(`${report.failed} failed`) : `${report.failed} failed`;
    stdout.line(`${name}: ${c.green(`${report.passed} passed`)}, ${failed}, ${c.yellow(`${report.skipped} skipped`)}`);
  }
  if (report.cases.length === 0) {
    stderr.line(`no case matches --filter ${JSON.stringify(options.filter)}`);
    return ExitCode.ERROR;
  }
  return report.failed > 0 ? ExitCode.PROBLEM : ExitCode.OK;
}

export function conformanceCommand(): Command {
  return new Command('conformance')
    .description('run the store conformance suite against a custom backend module that exports openStore(dir)')
    .argument(
      '<module>',
      'path of an ES module exporting openStore(dir) (and optionally breakBackend(store), failNextWrite(store), durable, name)',
    )
    .option('--filter <text>', 'run only the cases whose "group › name" contains this text')
    .addOption(new Option('--crash-rounds <n>', 'SIGKILL rounds per crash case').argParser(positiveInt('--crash-rounds')))
    .option('--tmp-dir <dir>', "where the cases' fresh directories are created (default: the OS temp directory)")
    .option('--json', 'print the report as JSON instead of one line per case')
    .addHelpText(
      'after',
      `
The module is imported in this process and, for the crash cases, in child processes that are
killed with SIGKILL. Without breakBackend the ERR_STORE_IO cases are skipped, and without
failNextWrite the failed-persist case, each with the reason.
Exit codes: 0 no case failed, 2 at least one case failed, 1 the module cannot be loaded.

Example:
  $ keyledger conformance examples/json-file-store/index.mjs`,
    )
    .action(async (module: string, options: ConformanceCommandOptions) => {
      process.exitCode = await runConformanceCommand(module, options);
    });
}
