// `keyledger replay` as a user runs it (its own process, a JSON Lines log on disk, the store opened
// by the CLI) against `applyEntries` in this process on the same entries, in groups of the same
// size, on a store opened the same way (the adapter's own `open(path)`).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Applier } from '@keyledger/core';
import { LevelRegistryStore } from '@keyledger/level';
import { LmdbRegistryStore } from '@keyledger/lmdb';
import { SqliteRegistryStore } from '@keyledger/sqlite';
import { figure, gc } from './stats.mjs';
import { dropDir, freshDir } from './tmpdir.mjs';
import { rssEntries } from './workload.mjs';

const require = createRequire(import.meta.url);
const CLI_BIN = join(dirname(require.resolve('@keyledger/cli/package.json')), 'dist', 'bin.js');

/** The CLI's store URI scheme and the adapter's own `open(path)`, per backend. */
const OPEN = {
  // No extension: the CLI makes an lmdb store path a directory, LmdbRegistryStore.open takes a path
  // with an extension for a single-file environment and refuses the directory the CLI made there.
  lmdb: { path: (dir) => join(dir, 'store-lmdb'), open: (p) => LmdbRegistryStore.open(p) },
  level: { path: (dir) => join(dir, 'store.level'), open: (p) => LevelRegistryStore.open(p) },
  sqlite: { path: (dir) => join(dir, 'store.sqlite'), open: (p) => SqliteRegistryStore.open(p) },
};

/** `entries` registrations for fresh slots, raft indexes 1…n, as bytes and as the log file's lines. */
function makeLog(entries, dir) {
  const bytes = rssEntries(0, entries, 1);
  const lines = bytes.map((e, i) => `{"index":"${i + 1}","entry":"${Buffer.from(e).toString('hex')}"}\n`);
  const path = join(dir, 'log.jsonl');
  writeFileSync(path, lines.join(''));
  return { path, bytes };
}

/** Wall-clock seconds of `keyledger replay` on a fresh store: process start to exit. */
function replayProcess(backend, log, entries, groupSize) {
  const dir = freshDir(`${backend}-replay-cli`);
  try {
    const store = `${backend}:${OPEN[backend].path(dir)}`;
    const t0 = performance.now();
    const out = execFileSync(
      process.execPath,
      [CLI_BIN, 'replay', log.path, '--store', store, '--group-size', String(groupSize), '--json'],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const seconds = (performance.now() - t0) / 1000;
    const outcome = JSON.parse(out);
    if (outcome.applied !== entries || outcome.halt !== null) throw new Error(`replay: applied ${outcome.applied} of ${entries} entries`);
    return seconds;
  } finally {
    dropDir(dir);
  }
}

/** Seconds of `applyEntries` over the same entries in groups of `groupSize`, store and applier already open. */
async function applyInProcess(backend, log, groupSize) {
  const dir = freshDir(`${backend}-replay-inproc`);
  const store = await OPEN[backend].open(OPEN[backend].path(dir));
  const applier = await Applier.open(store);
  try {
    const items = log.bytes.map((entry, i) => ({ entry, index: BigInt(i + 1) }));
    gc();
    const t0 = performance.now();
    for (let at = 0; at < items.length; at += groupSize) {
      const results = await applier.applyEntries(items.slice(at, at + groupSize));
      if (results.at(-1)?.effect !== 'inserted') throw new Error('replay baseline: a registration was not inserted');
    }
    return (performance.now() - t0) / 1000;
  } finally {
    await applier.close();
    await store.close();
    dropDir(dir);
  }
}

/** Seconds for the CLI to start and exit (`keyledger --version`): the fixed part of a replay's wall-clock time. */
function cliStart() {
  const t0 = performance.now();
  execFileSync(process.execPath, [CLI_BIN, '--version'], { stdio: ['ignore', 'ignore', 'inherit'] });
  return (performance.now() - t0) / 1000;
}

/**
 * `cfg.replayRounds` rounds (after one unrecorded warm-up), each one replay process and one
 * in-process run on `cfg.replayEntries` registrations, taking turns.
 */
export async function benchReplay(backend, cfg, log) {
  log(`${backend}: keyledger replay (own process) vs applyEntries in-process, ${cfg.replayEntries.toLocaleString('en')} entries`);
  const dir = freshDir(`${backend}-replay-log`);
  try {
    const entryLog = makeLog(cfg.replayEntries, dir);
    const samples = { replayCli: [], replayInProcess: [], cliStart: [] };
    for (let r = -1; r < cfg.replayRounds; r++) {
      const round = {
        replayCli: cfg.replayEntries / replayProcess(backend, entryLog, cfg.replayEntries, cfg.groupSize),
        replayInProcess: cfg.replayEntries / (await applyInProcess(backend, entryLog, cfg.groupSize)),
        cliStart: cliStart() * 1000,
      };
      if (r >= 0) for (const [k, v] of Object.entries(round)) samples[k].push(v);
    }
    return {
      replayCli: figure(samples.replayCli, 'entries/s'),
      replayInProcess: figure(samples.replayInProcess, 'entries/s'),
      cliStart: figure(samples.cliStart, 'ms'),
    };
  } finally {
    dropDir(dir);
  }
}
