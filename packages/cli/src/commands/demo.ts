import { mkdirSync } from 'node:fs';
import { mkdtemp, rmdir } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { Command } from 'commander';
import { FileKek, isHalt, type ApplyResult, type RegistryStore } from '@keyledger/core';
import { CliError, ExitCode } from '../cli-error.js';
import { buildDemoScenario, type DemoStep, type LogEntry } from '../demo-cluster.js';
import { writeLog } from '../log-file.js';
import { reasonOf, stdout } from '../output.js';
import { DemoReplica } from '../demo-replica.js';
import { encryptorDemo } from '../demo-encryptor.js';
import { readReport, renderState, renderWriters } from '../report.js';
import { STORE_URI_HELP, formatStoreUri, openStore, parseStoreUri, type StoreUri } from '../store-uri.js';

export interface DemoOptions {
  store?: string;
  dir?: string;
}

/** A path as the user would type it: relative to the current directory when it lies inside it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? `./${rel}` : path;
}

function shownUri(uri: StoreUri): string {
  return `${uri.scheme}:${shown(uri.path)}`;
}

/** "inserted ×2, advanced" from the applier's results, in order of first appearance. */
function tally(results: readonly ApplyResult[]): string {
  const counts = new Map<string, number>();
  for (const r of results) {
    const effect = r.kind === 'already-applied' ? r.kind : r.effect;
    counts.set(effect, (counts.get(effect) ?? 0) + 1);
  }
  return [...counts].map(([effect, n]) => (n > 1 ? `${effect} ×${n}` : effect)).join(', ');
}

function indices(entries: readonly LogEntry[]): string {
  return entries.map((e) => e.index).join(',');
}

async function refuseUsedStore(store: RegistryStore, uri: StoreUri): Promise<void> {
  const report = await readReport(store);
  if (report.state !== undefined || report.deks.length > 0) {
    throw new CliError(`${formatStoreUri(uri)} already holds keyledger state: the demo needs a fresh store (omit --store for a new one)`);
  }
}

/**
 * Generates a KEK, builds the demo log, writes it as JSON Lines, and applies it step by step with
 * narration: a bootstrap, restarts, a restart with a Raft replay, a DEK rotation, both envelope
 * cutovers, then a rollback and a slot collision that must halt with the state unchanged.
 * Exits 0 when every step did what it should, halts included.
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  const started = performance.now();
  const dir = options.dir === undefined ? await mkdtemp(join(process.cwd(), 'keyledger-demo-')) : resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  try {
    return await demoIn(dir, options, started);
  } catch (err) {
    // A refused run leaves no empty directory behind; rmdir keeps anything with files in it.
    if (options.dir === undefined) await rmdir(dir).catch(() => undefined);
    throw err;
  }
}

async function demoIn(dir: string, options: DemoOptions, started: number): Promise<number> {
  const c = stdout.c;
  const uri = parseStoreUri(options.store ?? `sqlite:${join(dir, 'registry.db')}`);
  const kekPath = join(dir, 'kek.bin');
  const logPath = join(dir, 'demo-log.jsonl');

  // The store is checked before anything is generated, so a refused run leaves no KEK behind.
  const store = await openStore(uri);
  let kek: FileKek | undefined;
  let replica: DemoReplica | undefined;
  try {
    await refuseUsedStore(store, uri);
    stdout.line(c.bold('keyledger demo: a 3-node cluster applying its encryption log'));
    stdout.line(`  directory ${shown(dir)}`);
    kek = await FileKek.generate(kekPath);
    stdout.line(`  KEK       ${shown(kekPath)} (generated: 32 random bytes, mode 0600)`);
    const scenario = await buildDemoScenario(kek);
    await writeLog(logPath, scenario.log);
    stdout.line(`  log       ${shown(logPath)} (${scenario.log.length} entries, JSON Lines)`);
    stdout.line(`  store     ${shownUri(uri)}`);
    stdout.line();

    replica = await DemoReplica.open(uri, kek, store);
    let haltNoted = false;
    for (const [i, step] of scenario.steps.entries()) {
      replica.events.length = 0;
      const outcome = await runStep(step, replica);
      const detail = [outcome.detail, ...replica.events].join('; ');
      const where = step.kind === 'restart' ? '' : `[${indices(step.entries)}]`;
      const mark = outcome.ok ? c.green('✓') : c.red('✗');
      stdout.line(
        `${String(i + 1).padStart(3)} ${mark} ${c.dim(where.padEnd(14))} ${step.title} ${c.dim('→')} ${outcome.ok ? detail : c.red(detail)}`,
      );
      if (step.kind === 'halt' && !haltNoted) {
        haltNoted = true;
        stdout.line(c.dim('        (a real replica stops at its first halt; the demo goes on to show the other check)'));
      }
    }

    const report = await replica.report();
    stdout.line();
    stdout.line(renderState(report, shownUri(uri), c));
    stdout.line();
    stdout.line(renderWriters(report, c));
    stdout.line();
    for (const line of await encryptorDemo(kek, scenario, c)) stdout.line(line);
    stdout.line();
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    const replicaPath = shown(join(dir, 'replica-lmdb'));
    stdout.line(`done in ${seconds}s. Replay the same log into another backend and compare:`);
    stdout.line(`  keyledger replay ${shown(logPath)} --kek ${shown(kekPath)} --store lmdb:${replicaPath}`);
    stdout.line(`  keyledger inspect --store lmdb:${replicaPath}`);
    stdout.line(c.dim('  (replay stops at the rollback entry with exit code 2: that halt is the point)'));
  } finally {
    if (replica) await replica.close();
    else await store.close();
    kek?.close();
  }
  return ExitCode.OK;
}

/** Runs one step; `ok` is false for a step that halted as it should. Anything unexpected throws. */
async function runStep(step: DemoStep, replica: DemoReplica): Promise<{ ok: boolean; detail: string }> {
  switch (step.kind) {
    case 'restart': {
      const keys = await replica.restart();
      return { ok: true, detail: `${keys} DEKs unwrapped into the keystore` };
    }
    case 'apply': {
      const results: ApplyResult[] = [];
      // One entry at a time so the fixed clock can follow the raft index; a host would group them.
      for (const e of step.entries) {
        replica.clockIndex = e.index;
        results.push(await replica.applier.applyEntry(e.entry, e.index));
      }
      const bootstrapped = results.some((r) => r.kind === 'bootstrap');
      const writers = bootstrapped ? `, ${(await replica.report()).deks.reduce((n, d) => n + d.writers.length, 0)} writers` : '';
      return { ok: true, detail: `${tally(results)}${writers}` };
    }
    case 'replay': {
      const before = await replica.snapshot();
      const results = await replica.applier.applyEntries(step.entries);
      if ((await replica.snapshot()) !== before) throw new CliError('the replayed entries changed the store: replays must be idempotent');
      return { ok: true, detail: `${tally(results)} (one group commit); store unchanged` };
    }
    case 'halt': {
      const before = await replica.snapshot();
      const entry = step.entries[0]!;
      try {
        await replica.applier.applyEntry(entry.entry, entry.index);
      } catch (err) {
        if (!isHalt(err)) throw err;
        const { code, message } = reasonOf(err);
        if (code !== step.expect) throw new CliError(`expected ${step.expect}, the entry halted with ${code ?? 'no code'}`, { cause: err });
        if ((await replica.snapshot()) !== before) throw new CliError('the halted entry changed the store');
        return {
          ok: false,
          detail: `halted: ${code} (${message}); state intact, applied index still ${replica.applier.state.raftAppliedIndex}`,
        };
      }
      throw new CliError(`the entry at index ${entry.index} was applied but must halt with ${step.expect}`);
    }
  }
}

export function demoCommand(): Command {
  return new Command('demo')
    .description('build and apply a realistic encryption log for a 3-node cluster, narrating each step')
    .option('--store <uri>', `store to apply to, which must be fresh: ${STORE_URI_HELP} (default: sqlite in the demo directory)`)
    .option('--dir <dir>', 'directory for kek.bin, demo-log.jsonl and the default store (default: a new ./keyledger-demo-XXXXXX)')
    .addHelpText(
      'after',
      `
The demo ends with two entries that must halt (an epoch rollback and a slot collision); it exits
0 when they do and the state stays intact. Exit codes: 0 success, 1 the store is not fresh, a
file already exists, or an I/O error.

Examples:
  $ keyledger demo
  $ keyledger demo --store level:./demo-level`,
    )
    .action(async (options: DemoOptions) => {
      process.exitCode = await runDemo(options);
    });
}
