import { closeSync, fdatasyncSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Applier, FileKek } from '@keyledger/core';
import { RUN_MAIN_SCRIPT, runChild } from '@keyledger/harness';
import { digestOf, scanHex } from './digest.js';
import { generateLog, writeLog, type GeneratedLog } from './log-generator.js';
import { FIXED_CLOCK, applyOne, buildReference, lostEntries, type Reference } from './reference.js';
import { Rng } from './rng.js';
import { buildPowerLoss, powerLossEnv, restorePowerLoss } from './powerloss.js';
import { expectedOutcome, nextLife, outcomeMatches, resumeLife, type Redelivery } from './redelivery.js';
import { openStore, type StoreName } from './stores.js';

export interface CampaignOptions {
  store: StoreName;
  /** SIGKILLs to deliver (the campaign runs more passes over the log until it has). */
  kills: number;
  /** Roll files back to their last sync after every kill (requires a C compiler). */
  powerLoss: boolean;
  seed: number;
  /** Log length (default 20,000). */
  entries: number;
  workDir: string;
  /** Stop at the first check that finds a lost acknowledged entry (for the misconfigured controls). */
  stopOnLoss?: boolean;
  /**
   * Kill only by self-kill right after an acknowledgement (never on a timer). The window a missing
   * sync opens is the time between the acknowledgement and the sync that should have preceded it;
   * a kill there catches it far more often than a random moment does.
   */
  killOnAck?: boolean;
  /** Kill between keyledger's write and the host's ack, then re-deliver from before the last ack (see redelivery.ts). */
  redeliver?: boolean;
  /** Stop after this many passes over the log even if fewer kills were delivered. */
  maxPasses?: number;
  progress?: (line: string) => void;
}

export interface CampaignReport {
  store: StoreName;
  mode: 'sigkill' | 'power-loss';
  seed: number;
  entries: number;
  kills: number;
  /** Child processes started. */
  lives: number;
  passes: number;
  /** Store checks after a kill (one per kill; the store was opened, scanned and dated each time). */
  checks: number;
  /** Sum over checks of the acknowledged entries whose effects were verified present. */
  ackedVerified: number;
  /** Acknowledgements received (each compared with the reference outcome). */
  acks: number;
  /** Distinct acknowledged entries whose effect was missing at some check. Must be 0. */
  lost: number;
  /** Checks whose content matched no state a prefix of the log can produce (half-applied or corrupt). */
  unmatched: number;
  /** Entries delivered again after keyledger had applied them (re-delivery mode). */
  redelivered: number;
  /** Re-delivered entries that did not answer `already-applied`. Must be 0. */
  redeliveryHalts: number;
  /** Acknowledged outcomes that differed from the reference run. */
  outcomeMismatches: number;
  /** Times the store (or a child) failed to open or died on its own. */
  failures: number;
  /** Passes whose final scan, and final whole-log replay, matched the never-crashed run byte for byte. */
  finalIdentical: number;
  restore: { files: number; undone: number; bytes: number; missing: number };
  problems: string[];
  ok: boolean;
}

// The compiled child, also when this module runs from src/ under vitest (`pnpm test` builds dist/ first).
const childModule = resolve(fileURLToPath(import.meta.url), '..', '..', 'dist', 'crash-child.js');

const logs = new Map<string, { log: GeneratedLog; ref: Reference; path: string }>();

async function prepare(workDir: string, seed: number, entries: number): Promise<{ log: GeneratedLog; ref: Reference; path: string }> {
  const key = `${workDir}|${seed}|${entries}`;
  const hit = logs.get(key);
  if (hit) return hit;
  const log = generateLog(seed, entries);
  const path = join(workDir, `log-${seed}-${entries}.jsonl`);
  writeLog(path, log);
  const out = { log, ref: await buildReference(log), path };
  logs.set(key, out);
  return out;
}

/**
 * The SIGKILL (and, with `powerLoss`, power-cut) campaign for one store: repeatedly starts a child
 * that applies the log from the first unacknowledged entry, kills it at a random moment — a timer
 * from spawn (so also during open and recovery), the parent's SIGKILL on reading a random
 * acknowledgement, or the child's own SIGKILL right after writing one — and then
 * checks the store: it opens; its content equals the state after some prefix 1..j of the log with
 * j ≥ the last acknowledged entry (nothing half-applied, nothing acknowledged lost); acknowledged
 * outcomes equal the reference run's. At the end of each pass the final content and a replay of the
 * whole log must be byte-identical to a run that never crashed.
 */
export async function runCampaign(o: CampaignOptions): Promise<CampaignReport> {
  mkdirSync(o.workDir, { recursive: true });
  const { log, ref, path: logPath } = await prepare(o.workDir, o.seed, o.entries);
  const n = log.entries.length;
  const rng = new Rng(o.seed ^ 0x5eed);
  const library = o.powerLoss ? buildPowerLoss() : undefined;
  const r: CampaignReport = {
    store: o.store,
    mode: o.powerLoss ? 'power-loss' : 'sigkill',
    seed: o.seed,
    entries: n,
    kills: 0,
    lives: 0,
    passes: 0,
    checks: 0,
    ackedVerified: 0,
    acks: 0,
    redelivered: 0,
    redeliveryHalts: 0,
    lost: 0,
    unmatched: 0,
    outcomeMismatches: 0,
    failures: 0,
    finalIdentical: 0,
    restore: { files: 0, undone: 0, bytes: 0, missing: 0 },
    problems: [],
    ok: false,
  };
  const problem = (s: string): void => {
    if (r.problems.length < 50) r.problems.push(s);
    o.progress?.(`[${o.store} ${r.mode}] PROBLEM ${s}`);
  };
  let startupMs = 300;
  let perEntryMs = 3;
  const maxPasses = o.maxPasses ?? 50;
  let stop = false;

  while (!stop && r.kills < o.kills && r.passes < maxPasses) {
    const passDir = join(o.workDir, `${o.store}-${r.mode}-pass-${r.passes}`);
    rmSync(passDir, { recursive: true, force: true });
    const storeDir = join(passDir, 'store');
    mkdirSync(storeDir, { recursive: true });
    r.passes++;
    const ackFd = openSync(join(passDir, 'acks'), 'a');
    const lostThisPass = new Set<number>();
    let lastAck = 0;
    let life: Redelivery = { from: 1, appliedTop: 0 };
    try {
      while (lastAck < n && !stop) {
        const from = life.from;
        const remainingKills = o.kills - r.kills;
        let killAtAck = 0;
        let killAfterMs = -1;
        let selfKill = 0;
        let killBeforeAck = 0;
        if (remainingKills > 0) {
          const mean = Math.max(1, (n - lastAck) / remainingKills);
          const how = rng.next();
          // Counted from this life's first entry, which may be a re-delivery.
          if (o.redeliver) killBeforeAck = lastAck + 1 - from + rng.int(1, Math.max(1, Math.round(2 * mean)));
          else if (o.killOnAck || how < 0.35) selfKill = rng.int(1, Math.max(1, Math.round(2 * mean)));
          else if (how < 0.65) killAtAck = rng.int(1, Math.max(1, Math.round(2 * mean)));
          // A fifth of timer kills land during start-up (open, recovery, keystore rebuild).
          else killAfterMs = rng.chance(0.2) ? rng.next() * startupMs : startupMs + rng.next() * 2 * mean * perEntryMs;
        }
        const undoLog = join(passDir, `undo-${r.lives}.log`);
        const spawnedAt = Date.now();
        let readyAt = 0;
        let acksThisLife = 0;
        r.lives++;
        const child = runChild(
          RUN_MAIN_SCRIPT,
          [childModule, o.store, storeDir, logPath, String(from), String(selfKill), String(killBeforeAck)],
          (line) => {
            if (line.startsWith('ready')) readyAt = Date.now();
            if (!line.startsWith('ack ')) return false;
            acksThisLife++;
            return killAtAck > 0 && acksThisLife >= killAtAck;
          },
          60 * 60_000,
          { keepLinesAfterKill: true, ...(library ? { env: powerLossEnv(library, storeDir, undoLog) } : {}) },
        );
        const timer = killAfterMs >= 0 ? setTimeout(() => child.kill(), killAfterMs) : undefined;
        const run = await child.done;
        if (timer) clearTimeout(timer);
        // Every ack the child printed counts, also those still in the pipe when it was killed.
        acksThisLife = 0;
        let next = from;
        for (const line of run.lines) {
          if (!line.startsWith('ack ')) continue;
          writeSync(ackFd, `${line}\n`);
          const [, idx, outcome] = line.split(' ');
          const i = Number(idx);
          if (i !== next) problem(`ack ${i} out of order: expected ${next}`);
          next = i + 1;
          lastAck = Math.max(lastAck, i);
          acksThisLife++;
          r.acks++;
          const want = expectedOutcome(log, ref, life.appliedTop, i);
          if (i <= life.appliedTop || outcome === 'already-applied') r.redelivered++;
          if (!outcomeMatches(log, ref, life, i, outcome!)) {
            r.outcomeMismatches++;
            if (want === 'already-applied') r.redeliveryHalts++;
            problem(`entry ${i} (${log.entries[i - 1]!.intent}): outcome ${outcome}, expected ${want}`);
          }
        }
        fdatasyncSync(ackFd);
        if (readyAt > 0) {
          startupMs = 0.8 * startupMs + 0.2 * (readyAt - spawnedAt);
          if (acksThisLife > 0) perEntryMs = 0.8 * perEntryMs + 0.2 * ((Date.now() - readyAt) / acksThisLife);
        }
        const died = run.killed || ((selfKill > 0 || killBeforeAck > 0) && run.exitCode === null && !run.lines.includes('done'));
        life = o.redeliver && died ? nextLife(rng, lastAck, killBeforeAck > 0) : resumeLife(lastAck, died);
        if (!died) {
          if (run.exitCode !== 0 || !run.lines.includes('done')) {
            r.failures++;
            problem(`child exited ${run.exitCode} at entry ${from}: ${run.stderr.trim().slice(0, 500)}`);
            stop = true;
          }
          continue;
        }
        r.kills++;
        if (library) {
          const s = restorePowerLoss(undoLog);
          r.restore.files += s.files;
          r.restore.undone += s.undone;
          r.restore.bytes += s.bytes;
          r.restore.missing += s.missing;
          rmSync(undoLog, { force: true });
        }
        const lost = await check(o.store, storeDir, ref, lastAck, r, problem);
        for (const i of lost) lostThisPass.add(i);
        if (lost.length > 0 && o.stopOnLoss) stop = true;
        if (r.kills % 100 === 0)
          o.progress?.(`[${o.store} ${r.mode}] ${r.kills} kills, entry ${lastAck}/${n}, lost ${r.lost + lostThisPass.size}`);
      }
      r.lost += lostThisPass.size;
      if (!stop && lastAck >= n) {
        if (await finalCheck(o.store, storeDir, log, ref, problem)) r.finalIdentical++;
      }
    } finally {
      closeSync(ackFd);
    }
    if (r.problems.length === 0) rmSync(passDir, { recursive: true, force: true });
  }
  r.ok =
    r.lost === 0 &&
    r.unmatched === 0 &&
    r.outcomeMismatches === 0 &&
    r.redeliveryHalts === 0 &&
    r.failures === 0 &&
    r.finalIdentical === r.passes &&
    r.kills >= o.kills;
  return r;
}

/** Opens the store after a kill, dates its content against the reference, and returns lost entries. */
async function check(
  name: StoreName,
  dir: string,
  ref: Reference,
  lastAck: number,
  r: CampaignReport,
  problem: (s: string) => void,
): Promise<number[]> {
  r.checks++;
  let rows: [string, string][];
  try {
    const store = await openStore(name, dir);
    try {
      rows = await scanHex(store);
    } finally {
      await store.close();
    }
  } catch (err) {
    r.failures++;
    problem(`store did not open after kill ${r.kills}: ${String(err)}`);
    return [];
  }
  const digest = digestOf(rows).value;
  // With one entry in flight, the store holds the acknowledged prefix or one entry more.
  const matches = ref.digests[lastAck] === digest || (lastAck + 1 < ref.digests.length && ref.digests[lastAck + 1] === digest);
  const lost = lostEntries(ref, new Map(rows), lastAck);
  r.ackedVerified += ref.writers[lastAck]!;
  if (!matches) {
    r.unmatched++;
    problem(
      `kill ${r.kills}: store content matches neither entry ${lastAck} nor ${lastAck + 1} of the reference; ${lost.length} acknowledged entries lost${lost.length ? ` (first ${lost.slice(0, 5).join(', ')})` : ''}`,
    );
  }
  return lost;
}

/** The pass is complete: the content, and a replay of the whole log, must equal the never-crashed run. */
async function finalCheck(name: StoreName, dir: string, log: GeneratedLog, ref: Reference, problem: (s: string) => void): Promise<boolean> {
  const store = await openStore(name, dir);
  try {
    const same = (rows: [string, string][]): boolean => JSON.stringify(rows) === JSON.stringify(ref.finalRows);
    if (!same(await scanHex(store))) {
      problem('final scan differs from the never-crashed run');
      return false;
    }
    const applier = await Applier.open(store, { kek: FileKek.fromBytes(log.kek), now: FIXED_CLOCK });
    let mismatches = 0;
    for (const e of log.entries) {
      if ((await applyOne(applier, e)) !== ref.replayOutcomes[Number(e.index)]) mismatches++;
    }
    await applier.close();
    if (mismatches > 0) problem(`replaying the whole log gave ${mismatches} outcomes that differ from the never-crashed run`);
    if (!same(await scanHex(store))) {
      problem('scan after the whole-log replay differs from the never-crashed run');
      return false;
    }
    return mismatches === 0;
  } finally {
    await store.close();
  }
}

export function describeReport(r: CampaignReport): string {
  const f = (x: number): string => x.toLocaleString('en-US');
  const restore =
    r.mode === 'power-loss'
      ? `, power cuts rolled back ${f(r.restore.undone)} unsynced writes (${f(r.restore.bytes)} bytes) in ${f(r.restore.files)} file restores`
      : '';
  return (
    `[${r.store} ${r.mode}] ${r.ok ? 'PASS' : 'FAIL'}: kills ${f(r.kills)} over ${r.passes} pass(es) of ${f(r.entries)} entries, ` +
    `acknowledgements ${f(r.acks)}${r.redelivered > 0 ? ` (re-delivered ${f(r.redelivered)}, halted ${f(r.redeliveryHalts)})` : ''}, acknowledged entries verified ${f(r.ackedVerified)} in ${f(r.checks)} checks, ` +
    `lost ${f(r.lost)}, half-applied/unmatched ${f(r.unmatched)}, outcome mismatches ${f(r.outcomeMismatches)}, failures ${f(r.failures)}, ` +
    `final scan + whole-log replay identical ${r.finalIdentical}/${r.passes}${restore}`
  );
}
