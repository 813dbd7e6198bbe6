import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, Option } from 'commander';
import type { RegistryStore } from '@keyledger/core';
import { runConformance, type CaseResult } from '@keyledger/core/conformance';
import { positiveInt } from '../arguments.js';
import { CliError, ExitCode } from '../cli-error.js';
import { openRegularFile } from '../files.js';
import { jsonLine, stdout, stderr } from '../output.js';

export interface ConformanceCommandOptions {
  filter?: string;
  json?: boolean;
  crashRounds?: number;
  tmpDir?: string;
  openTimeout: number;
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
  // A FIFO or device would block the import forever: only a regular file is imported.
  await (await openRegularFile(path, 'module')).close();
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

/** `openStore(dir)`, bounded by `ms` and checked to return something with the store's methods. */
async function openBounded(backend: BackendModule, dir: string, ms: number): Promise<RegistryStore> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CliError(`openStore(dir) did not settle within ${ms} ms (--open-timeout)`)), ms);
  });
  try {
    const store = await Promise.race([Promise.resolve(backend.openStore(dir)), timeout]);
    const methods = ['get', 'write', 'scan', 'close'] as const;
    const missing = methods.filter((m) => typeof (store as unknown as Record<string, unknown> | null)?.[m] !== 'function');
    if (missing.length > 0) {
      const got = store === null ? 'null' : typeof store;
      throw new CliError(
        `openStore(dir) returned ${got === 'object' ? `an object without ${missing.join(', ')}` : got}: it must return a RegistryStore (get, write, scan, close)`,
      );
    }
    return store;
  } finally {
    clearTimeout(timer);
  }
}

/** Opens and closes one store before the suite runs, so a broken `openStore` is one clear error, not every case failing. */
async function probe(backend: BackendModule, base: string, ms: number): Promise<void> {
  const dir = await mkdtemp(join(base, 'keyledger-conformance-probe-'));
  try {
    const store = await openBounded(backend, dir, ms);
    await store.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function checkTmpDir(dir: string): Promise<void> {
  const st = await stat(dir).catch(() => undefined);
  if (st === undefined) throw new CliError(`--tmp-dir ${dir} does not exist: create it or leave the option out`);
  if (!st.isDirectory()) throw new CliError(`--tmp-dir ${dir} is not a directory`);
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
  const tmpDir = options.tmpDir === undefined ? undefined : resolve(options.tmpDir);
  if (tmpDir !== undefined) await checkTmpDir(tmpDir);
  await probe(backend, tmpDir ?? tmpdir(), options.openTimeout);
  if (!options.json) stdout.line(stdout.c.bold(`conformance: ${name} (${path})`));
  const report = await runConformance({
    name,
    open: (dir) => openBounded(backend, dir, options.openTimeout),
    module: path,
    ...(backend.breakBackend ? { breakBackend: (store: RegistryStore) => backend.breakBackend!(store) } : {}),
    ...(backend.failNextWrite ? { failNextWrite: (store: RegistryStore) => backend.failNextWrite!(store) } : {}),
    ...(backend.durable === undefined ? {} : { durable: backend.durable }),
    ...(options.crashRounds === undefined ? {} : { crashRounds: options.crashRounds }),
    ...(tmpDir === undefined ? {} : { tmpDir }),
    ...(options.filter === undefined ? {} : { filter: options.filter }),
    onCase: (r) => {
      if (!options.json) for (const l of caseLine(r)) stdout.line(l);
    },
  });
  if (options.json) {
    stdout.line(jsonLine({ ...report }, true));
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
    .addOption(
      new Option('--open-timeout <ms>', 'how long openStore(dir) may take before the module is reported as broken')
        .default(30_000)
        .argParser(positiveInt('--open-timeout')),
    )
    .option('--json', 'print the report as JSON instead of one line per case')
    .addHelpText(
      'after',
      `
The module is imported in this process and, for the crash cases, in child processes that are
killed with SIGKILL. Without breakBackend the ERR_STORE_IO cases are skipped, and without
failNextWrite the failed-persist case, each with the reason. openStore(dir) is tried once
first: one that does not settle or returns no store is reported as such (exit 1).
Exit codes: 0 no case failed, 2 at least one case failed, 1 the module cannot be loaded or
opened, or a usage error (a --tmp-dir that does not exist).

Example:
  $ keyledger conformance examples/json-file-store/index.mjs`,
    )
    .action(async (module: string, options: ConformanceCommandOptions) => {
      process.exitCode = await runConformanceCommand(module, options);
    });
}
