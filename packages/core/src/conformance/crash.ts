import { deepStrictEqual, fail, ok } from 'node:assert/strict';
import { moduleUrl, runChild } from '@keyledger/harness';
import type { RegistryStore } from '../index.js';
import { scanAll, te } from './assertions.js';
import type { CaseContext, ConformanceCase } from './conformance-case.js';

const group = 'crash';

/**
 * The child writes three keys per `write` and prints `ack <i>` only after the write resolved.
 * stdout to a pipe is synchronous on Linux (and we use writeSync), so every line the parent
 * reads is a write the store acknowledged as durable.
 */
const WRITER = `
import { writeSync } from 'node:fs';
const [url, dir, round] = process.argv.slice(1);
const { openStore } = await import(url);
const store = await openStore(dir);
const enc = (s) => new TextEncoder().encode(s);
writeSync(1, 'ready\\n');
for (let i = 0; i < 1000000; i++) {
  const id = String(i).padStart(7, '0');
  await store.write(['a', 'b', 'c'].map((part) => ({ key: enc('crash|' + round + '|' + id + '|' + part), value: enc(round + ':' + i + ':' + part) })));
  writeSync(1, 'ack ' + i + '\\n');
}
`;

const KILL_AFTER_ACKS = [1, 9, 40, 150];

/** Checks every acknowledged write of every round so far is whole, and nothing is half-visible. */
async function checkRounds(store: RegistryStore, acked: Map<number, number>): Promise<void> {
  const rows = await scanAll(store, te('crash|'));
  const groups = new Map<string, Map<string, string>>();
  for (const { key, value } of rows) {
    const [, round, id, part] = new TextDecoder().decode(key).split('|');
    const g = `${round}|${id}`;
    if (!groups.has(g)) groups.set(g, new Map());
    groups.get(g)!.set(part!, new TextDecoder().decode(value));
  }
  for (const [g, parts] of groups) {
    const [round, id] = g.split('|');
    const i = Number(id);
    ok(parts.size === 3, `write ${i} of round ${round} is half-visible: ${[...parts.keys()].join(',')} present of a,b,c`);
    for (const [part, v] of parts) deepStrictEqual(v, `${round}:${i}:${part}`, `value of write ${i}/${part} in round ${round}`);
  }
  for (const [round, last] of acked) {
    for (let i = 0; i <= last; i++) {
      const g = `${round}|${String(i).padStart(7, '0')}`;
      if (!groups.has(g)) fail(`acknowledged write ${i} of round ${round} is missing after SIGKILL (last acknowledged: ${last})`);
    }
  }
}

/** The number in the child's last `ack <i>` line: its last write acknowledged as durable. */
function lastAck(lines: readonly string[]): number | undefined {
  const acks = lines.filter((l) => l.startsWith('ack '));
  return acks.length === 0 ? undefined : Number(acks[acks.length - 1]!.slice(4));
}

/**
 * Runs the writer child once per round in one directory; `killRound` starts and kills it and
 * returns its last acknowledged write. After every kill the store reopens and every write
 * acknowledged in any round so far must be whole.
 */
async function killRounds(ctx: CaseContext, killRound: (round: number, args: string[]) => Promise<number | undefined>): Promise<void> {
  const dir = await ctx.freshDir();
  const acked = new Map<number, number>();
  for (let round = 0; round < (ctx.options.crashRounds ?? 4); round++) {
    const last = await killRound(round, [moduleUrl(ctx.options.module!), dir, String(round)]);
    if (last !== undefined) acked.set(round, last);
    const store = await ctx.open(dir);
    await checkRounds(store, acked);
    await store.close();
  }
}

export const crashCases: ConformanceCase[] = [
  {
    group,
    name: 'every acknowledged write survives SIGKILL and no write is half-visible',
    needs: ['module'],
    catches: 'buffering',
    run: (ctx) =>
      killRounds(ctx, async (round, args) => {
        const killAfter = KILL_AFTER_ACKS[round % KILL_AFTER_ACKS.length]!;
        const run = await runChild(WRITER, args, (line) => line === `ack ${killAfter - 1}`).done;
        const last = lastAck(run.lines);
        if (!run.killed || last === undefined) {
          fail(
            `crash child for round ${round} exited (code ${run.exitCode}) before ${killAfter} acknowledged writes: ${run.stderr.trim().slice(0, 2000)}`,
          );
        }
        return last;
      }),
  },
  {
    group,
    name: 'a kill at a random moment loses no acknowledged write',
    needs: ['module'],
    catches: 'buffering',
    run: (ctx) =>
      killRounds(ctx, async (round, args) => {
        const delayMs = 5 + Math.floor(Math.random() * 120);
        let timer: NodeJS.Timeout | undefined;
        const child = runChild(WRITER, args, (line) => {
          // Kill on a timer started at 'ready', at a moment unrelated to any acknowledgement.
          if (line === 'ready') timer = setTimeout(() => child.kill(), delayMs);
          return false;
        });
        const run = await child.done;
        if (timer) clearTimeout(timer);
        if (!run.killed) fail(`crash child for round ${round} exited early (code ${run.exitCode}): ${run.stderr.trim().slice(0, 2000)}`);
        return lastAck(run.lines);
      }),
  },
];
