import { fail, ok } from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { moduleUrl, runChild } from '@keyledger/harness';
import { Applier, FileKek, MemoryRegistryStore, Purpose, type RegistryStore, RotationSubtag, encodeBootstrap } from '../index.js';
import { hex, scanAll } from './assertions.js';
import type { CaseContext, ConformanceCase } from './conformance-case.js';
import { FIXED_NOW, W1, W2, W3, cutoverEntry, newBootstrap, regEntry, rotateDekEntry } from './fixtures.js';

const group = 'crash';

/**
 * The child opens the backend with `openStore(dir)`, opens a real Applier from core with the
 * log's KEK and clock, applies the log one `applyEntry` at a time and prints `ack <i>` after each
 * one resolved (writeSync to a pipe: a line the parent reads is an entry the store acknowledged as
 * durable). After the last entry it prints `done` and waits to be killed.
 *
 * Core is loaded from the URL the parent resolved (see {@link coreUrlFor}), not from this
 * file's own location: the suite runs from core's ESM build, its CJS build, or its TypeScript
 * source under a test runner, and only a built ES module can be imported by a bare Node child.
 */
const APPLIER = `
import { readFileSync, writeSync } from 'node:fs';
const [backendUrl, coreUrl, dir, logPath] = process.argv.slice(1);
const { openStore } = await import(backendUrl);
const { Applier, FileKek } = await import(coreUrl);
const log = JSON.parse(readFileSync(logPath, 'utf8'));
const kek = FileKek.fromBytes(Uint8Array.from(Buffer.from(log.kek, 'hex')));
const now = new Date(log.now);
const store = await openStore(dir);
const applier = await Applier.open(store, { kek, now: () => now, onRaftKeyInstalled: () => {} });
writeSync(1, 'ready\\n');
for (const [i, [index, entry]] of log.entries.entries()) {
  await applier.applyEntry(Uint8Array.from(Buffer.from(entry, 'hex')), BigInt(index));
  writeSync(1, 'ack ' + i + '\\n');
}
writeSync(1, 'done\\n');
setInterval(() => {}, 60000);
`;

/** Rounds alternate between a kill right after the n-th acknowledgement and a kill on a random timer. */
const KILL_AFTER_ACKS = [1, 6, 24, 55];

interface LogEntry {
  index: bigint;
  entry: Uint8Array;
}

/**
 * The ES module URL of `@keyledger/core` as the backend module resolves it: a backend builds its
 * store on core, so its package can resolve core (an adapter through its dependency, core's own
 * fixtures through the package's self-reference). `createRequire` works the same in both builds.
 */
function coreUrlFor(backendUrl: string): string | undefined {
  try {
    const pkgPath = createRequire(backendUrl).resolve('@keyledger/core/package.json');
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports?: Record<string, unknown>; module?: string };
    const dot = pkg.exports?.['.'] as { import?: { default?: string } | string } | string | undefined;
    const esm = typeof dot === 'string' ? dot : typeof dot?.import === 'string' ? dot.import : (dot?.import?.default ?? pkg.module);
    return esm === undefined ? undefined : pathToFileURL(resolve(dirname(pkgPath), esm)).href;
  } catch {
    return undefined;
  }
}

/**
 * A log of 70-odd entries: a bootstrap whose batch registers three writers, then cycles of epoch
 * bumps, storage and raft DEK rotations, and both envelope cutovers. Every bootstrap and rotation
 * writes the state record and at least one registry row together, so a torn write shows.
 */
async function buildLog(kek: FileKek): Promise<LogEntry[]> {
  const entries: Uint8Array[] = [encodeBootstrap(await newBootstrap(kek))];
  const epoch = new Map([W1, W2, W3].map((w) => [w, 1]));
  const writers = [W1, W2, W3];
  let storage = 1;
  let raft = 2;
  let next = 3;
  for (let cycle = 0; cycle < 16; cycle++) {
    for (const w of writers) {
      epoch.set(w, epoch.get(w)! + 1);
      entries.push(regEntry(storage, w, epoch.get(w)!));
    }
    const proposer = writers[cycle % 3]!;
    storage = next++;
    entries.push(rotateDekEntry(storage, Purpose.STORAGE, await kek.wrap(randomBytes(32)), proposer, epoch.get(proposer)!));
    if (cycle === 1) entries.push(cutoverEntry(RotationSubtag.ENABLE_STORAGE_ENVELOPE, storage, W2, epoch.get(W2)!));
    if (cycle === 2) entries.push(cutoverEntry(RotationSubtag.ENABLE_RAFT_ENVELOPE, raft, W3, epoch.get(W3)!));
    if (cycle % 2 === 1) {
      raft = next++;
      entries.push(rotateDekEntry(raft, Purpose.RAFT, await kek.wrap(randomBytes(32)), W1, epoch.get(W1)!));
    }
  }
  return entries.map((entry, i) => ({ index: 10n + 2n * BigInt(i), entry }));
}

async function contents(store: RegistryStore): Promise<string[]> {
  return (await scanAll(store)).map((e) => `${hex(e.key)}=${hex(e.value)}`);
}

/** What the store holds after the first k entries, for every k, replayed on the memory store. */
async function prefixContents(kek: FileKek, log: readonly LogEntry[]): Promise<string[][]> {
  const store = new MemoryRegistryStore();
  const applier = await Applier.open(store, { kek, now: () => FIXED_NOW });
  try {
    const out = [await contents(store)];
    for (const { entry, index } of log) {
      await applier.applyEntry(entry, index);
      out.push(await contents(store));
    }
    return out;
  } finally {
    await applier.close();
    await store.close();
  }
}

function same(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Checks that the reopened store holds exactly the first k entries for k = acked or acked + 1
 * (the entry in flight when the kill came is all there or not there at all), and that an applier
 * with the same KEK opens on it and rebuilds its keystore.
 */
async function checkRound(store: RegistryStore, kek: FileKek, prefixes: readonly string[][], acked: number, round: number): Promise<void> {
  const held = await contents(store);
  const candidates = [acked, acked + 1].filter((k) => k < prefixes.length);
  if (!candidates.some((k) => same(held, prefixes[k]!))) {
    const k = prefixes.findIndex((p) => same(held, p));
    if (k >= 0 && k < acked)
      fail(
        `acknowledged entry ${k} of round ${round} is missing after SIGKILL: the store holds the first ${k} entries, ${acked} were acknowledged`,
      );
    if (k > acked + 1) fail(`round ${round}: the store holds ${k} entries but only ${acked} were acknowledged and one was in flight`);
    fail(
      `round ${round}: after SIGKILL the store holds no prefix of the log (${acked} entries acknowledged): an entry is half-applied or a row differs`,
    );
  }
  const applier = await Applier.open(store, { kek, now: () => FIXED_NOW });
  try {
    const ids = [...applier.state.keys.keys()].sort((x, y) => x - y);
    ok(
      applier.keyIds().join() === ids.join(),
      `round ${round}: the reopened applier must rebuild the keystore (${ids.join(',')}), got ${applier.keyIds().join(',')}`,
    );
  } finally {
    await applier.close();
  }
}

function needModules(ctx: CaseContext): { backend: string; core: string } {
  const module = ctx.options.module!;
  const backend = moduleUrl(module);
  const core = coreUrlFor(backend);
  if (!core)
    ctx.skip(
      `cannot resolve @keyledger/core from ${module}: the child runs a real Applier, so the module's package must depend on @keyledger/core`,
    );
  return { backend, core };
}

export const crashEntriesCases: ConformanceCase[] = [
  {
    group,
    name: 'applier › a kill while applying bootstraps and rotations leaves each entry all or none, every acknowledged one present',
    needs: ['module'],
    catches: 'buffering',
    async run(ctx) {
      const { backend, core } = needModules(ctx);
      const kekBytes = randomBytes(32);
      const kek = FileKek.fromBytes(kekBytes, 'conformance');
      const log = await buildLog(kek);
      const prefixes = await prefixContents(kek, log);
      const logPath = join(await ctx.freshDir(), 'log.json');
      // The child needs the KEK's bytes; the file lives in this case's own directory and goes with it.
      await writeFile(
        logPath,
        JSON.stringify({ kek: hex(kekBytes), now: FIXED_NOW.toISOString(), entries: log.map((e) => [e.index.toString(), hex(e.entry)]) }),
        { mode: 0o600 },
      );
      const rounds = ctx.options.crashRounds ?? 4;
      for (let round = 0; round < rounds; round++) {
        const dir = await ctx.freshDir();
        const killAfter = KILL_AFTER_ACKS[Math.floor(round / 2) % KILL_AFTER_ACKS.length]!;
        const delayMs = 2 + Math.floor(Math.random() * 80);
        let timer: NodeJS.Timeout | undefined;
        const child = runChild(
          APPLIER,
          [backend, core, dir, logPath],
          (line) => {
            if (line === 'done') return true;
            if (round % 2 === 1) {
              if (line === 'ready') timer = setTimeout(() => child.kill(), delayMs);
              return false;
            }
            return line === `ack ${killAfter - 1}`;
          },
          60_000,
          // An ack already in the pipe when the kill came is an entry the child saw durable: count it.
          { keepLinesAfterKill: true },
        );
        const run = await child.done;
        if (timer) clearTimeout(timer);
        if (!run.killed)
          fail(`crash child for round ${round} exited (code ${run.exitCode}) before it was killed: ${run.stderr.trim().slice(0, 2000)}`);
        const acked = run.lines.filter((l) => l.startsWith('ack ')).length;
        const store = await ctx.open(dir);
        await checkRound(store, kek, prefixes, acked, round);
        await store.close();
      }
    },
  },
];
