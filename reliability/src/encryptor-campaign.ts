import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileKek, encodeBootstrap } from '@keyledger/core';
import { RUN_MAIN_SCRIPT, runChild } from '@keyledger/harness';
import { NODE_ID } from './encryptor-child.js';
import { buildPowerLoss, powerLossEnv, restorePowerLoss } from './powerloss.js';
import { Rng } from './rng.js';
import type { StoreName } from './stores.js';

/** A real adapter, a misconfigured store, or the naive writer whose epoch bump is never synced. */
export type EncryptorCampaignTarget = StoreName | 'naive-unsynced';

export interface EncryptorCampaignOptions {
  target: EncryptorCampaignTarget;
  /** Lives to SIGKILL (each is a restart of the node). */
  restarts: number;
  /** Roll the store's unsynced writes back after every kill (the power-loss shim). */
  powerLoss: boolean;
  seed: number;
  workDir: string;
  progress?: (line: string) => void;
}

export interface EncryptorCampaignReport {
  target: EncryptorCampaignTarget;
  mode: 'sigkill' | 'power-loss';
  restarts: number;
  /** Kills that landed inside `Encryptor.open` (after 'opening', before 'open'). */
  killsInOpen: number;
  /** Kills before the registration was `registered` (open, catch-up, proposal). */
  killsBeforeRegistered: number;
  /** Lives whose first registration was refused (replay/rollback) and bumped again. */
  bumpedAgain: number;
  /** Distinct epochs opened. */
  epochs: number;
  /** Nonces logged (durably, before use). */
  nonces: number;
  /** (DEK, nonce) pairs logged more than once. Must be 0 for the real adapters. */
  repeats: number;
  /** Lives that ended on their own (an error): the message is in `problems`. */
  failures: number;
  problems: string[];
  ms: number;
}

const childModule = resolve(fileURLToPath(import.meta.url), '..', '..', 'dist', 'encryptor-child.js');

/** The work dir: a KEK, a replicated log that starts with a bootstrap naming the node at epoch 1, the nonce log. */
async function prepare(dir: string, seed: number): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'store'), { recursive: true });
  const rng = new Rng(seed);
  const kekBytes = rng.bytes(32);
  writeFileSync(join(dir, 'kek'), kekBytes, { mode: 0o600 });
  const kek = FileKek.fromBytes(kekBytes, 'campaign');
  const bootstrap = encodeBootstrap({
    storageDekId: 1,
    storageWrapped: await kek.wrap(rng.bytes(32)),
    raftDekId: 2,
    raftWrapped: await kek.wrap(rng.bytes(32)),
    registrations: [{ dekId: 1, fullNodeId: NODE_ID, localEpoch: 1 }],
  });
  writeFileSync(join(dir, 'log'), `${Buffer.from(bootstrap).toString('hex')}\n`);
  writeFileSync(join(dir, 'nonces'), '');
}

/** Counts (DEK, nonce) pairs that appear more than once in the nonce log. */
export function countRepeats(nonceLog: string): { nonces: number; repeats: number } {
  const seen = new Set<string>();
  let nonces = 0;
  let repeats = 0;
  for (const line of readFileSync(nonceLog, 'utf8').split('\n')) {
    // A line cut by the kill was never synced, so never used: it does not count.
    if (!/^\d+ [0-9a-f]{24}$/.test(line)) continue;
    nonces++;
    if (seen.has(line)) repeats++;
    else seen.add(line);
  }
  return { nonces, repeats };
}

/**
 * Restarts one node `restarts` times, SIGKILLing each life at a random moment — inside
 * `Encryptor.open` included — and, with `powerLoss`, rolling the store back to its last sync after
 * each kill. Then counts repeated (DEK, nonce) pairs in the nonce log.
 */
export async function runEncryptorCampaign(o: EncryptorCampaignOptions): Promise<EncryptorCampaignReport> {
  const started = Date.now();
  await prepare(o.workDir, o.seed);
  const rng = new Rng(o.seed ^ 0xe4c);
  const library = o.powerLoss ? buildPowerLoss() : undefined;
  const r: EncryptorCampaignReport = {
    target: o.target,
    mode: o.powerLoss ? 'power-loss' : 'sigkill',
    restarts: 0,
    killsInOpen: 0,
    killsBeforeRegistered: 0,
    bumpedAgain: 0,
    epochs: 0,
    nonces: 0,
    repeats: 0,
    failures: 0,
    problems: [],
    ms: 0,
  };
  const epochs = new Set<string>();
  let openMs = 250;
  let openDurMs = 5;
  while (r.restarts < o.restarts) {
    const undoLog = join(o.workDir, `undo-${r.restarts}.log`);
    const spawnedAt = Date.now();
    let openedAt = 0;
    let openingAt = 0;
    // A third of the kills land on a timer while the process starts, catches up and opens; the rest
    // once it encrypts, after 0..4 progress lines (0..200 nonces).
    const how = rng.next();
    const early = how < 0.3;
    // A fifth aim at the bump itself: a kill timed from the child's 'opening' line, within the time open takes.
    const inOpen = how >= 0.3 && how < 0.5;
    const inOpenDelay = rng.next() * openDurMs * 1.2;
    const killAfterMs = early ? rng.next() * openMs * 1.5 : 30_000;
    const linesBeforeKill = rng.int(0, 4);
    let progressLines = 0;
    const child = runChild(
      RUN_MAIN_SCRIPT,
      [childModule, o.target, o.workDir, rng.chance(0.5) ? '1' : '0'],
      (line) => {
        if (line === 'opening') openingAt = Date.now();
        if (line.startsWith('open ') && openedAt === 0) openedAt = Date.now();
        if (early) return false;
        if (inOpen) {
          if (line === 'opening') setTimeout(() => child.kill(), inOpenDelay);
          return false;
        }
        if (line.startsWith('registered')) return linesBeforeKill === 0;
        if (line.startsWith('n ')) return ++progressLines >= linesBeforeKill;
        return false;
      },
      60_000,
      { keepLinesAfterKill: true, ...(library ? { env: powerLossEnv(library, join(o.workDir, 'store'), undoLog) } : {}) },
    );
    const timer = setTimeout(() => child.kill(), killAfterMs);
    const run = await child.done;
    clearTimeout(timer);
    if (openedAt > 0) openMs = 0.8 * openMs + 0.2 * (openedAt - spawnedAt);
    if (openedAt > 0 && openingAt > 0) openDurMs = 0.8 * openDurMs + 0.2 * Math.max(1, openedAt - openingAt);
    if (!run.killed) {
      r.failures++;
      if (r.problems.length < 20) r.problems.push(`life ${r.restarts} exited ${run.exitCode}: ${run.stderr.trim().slice(0, 400)}`);
      if (r.failures >= 5) break;
    } else {
      r.restarts++;
    }
    if (run.lines.includes('opening') && !run.lines.some((l) => l.startsWith('open '))) r.killsInOpen++;
    if (!run.lines.some((l) => l.startsWith('registered'))) r.killsBeforeRegistered++;
    if (run.lines.some((l) => l.startsWith('bumped-again'))) r.bumpedAgain++;
    for (const l of run.lines) if (l.startsWith('open ')) epochs.add(l);
    if (library && existsSync(undoLog)) {
      restorePowerLoss(undoLog);
      rmSync(undoLog, { force: true });
    }
    if (r.restarts % 100 === 0 && run.killed) o.progress?.(`[${o.target} ${r.mode}] ${r.restarts} restarts`);
  }
  Object.assign(r, countRepeats(join(o.workDir, 'nonces')));
  r.epochs = epochs.size;
  r.ms = Date.now() - started;
  return r;
}

export function describeEncryptorReport(r: EncryptorCampaignReport): string {
  const f = (x: number): string => x.toLocaleString('en-US');
  return (
    `[encryptor ${r.target} ${r.mode}] ${r.repeats === 0 && r.failures === 0 ? 'PASS' : 'FAIL'}: ${f(r.restarts)} restarts ` +
    `(${f(r.killsInOpen)} killed inside Encryptor.open, ${f(r.killsBeforeRegistered)} before registered), ${f(r.epochs)} epochs opened, ` +
    `${f(r.bumpedAgain)} registrations bumped again, ${f(r.nonces)} nonces logged, repeats ${f(r.repeats)}, failures ${f(r.failures)}, ${(r.ms / 1000).toFixed(1)} s`
  );
}
