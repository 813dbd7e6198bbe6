/**
 * pnpm fuzz [--runs N] [--adapter-runs M] [--seed S]
 *
 * Model-based fuzzing of the Applier (docs/design.md, 'Applier') with fast-check: N command sequences (default
 * 100,000) against the memory store, then M (default 1,000) against each real adapter.
 */
import fc from 'fast-check';
import { applierProperty, stats } from '../fuzz.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const runs = Number(arg('runs') ?? 100_000);
const adapterRuns = Number(arg('adapter-runs') ?? 1_000);
const seed = arg('seed') === undefined ? Date.now() & 0x7fffffff : Number(arg('seed'));
let failed = false;
for (const [adapter, numRuns] of [
  ['memory', runs],
  ['sqlite', adapterRuns],
  ['lmdb', adapterRuns],
  ['level', adapterRuns],
] as const) {
  const before = { ...stats };
  const started = Date.now();
  try {
    await fc.assert(applierProperty(adapter), { numRuns, seed, verbose: 1 });
    console.log(
      `[fuzz ${adapter}] PASS: ${numRuns.toLocaleString('en-US')} cases (seed ${seed}), ${(stats.commands - before.commands).toLocaleString('en-US')} commands, ` +
        `${(stats.entries - before.entries).toLocaleString('en-US')} entries, ${(stats.halts - before.halts).toLocaleString('en-US')} halts/rejections, ` +
        `${(stats.errorsChecked - before.errorsChecked).toLocaleString('en-US')} errors checked for key material (${((Date.now() - started) / 1000).toFixed(0)} s)`,
    );
  } catch (err) {
    failed = true;
    console.log(`[fuzz ${adapter}] FAIL (seed ${seed}): ${String((err as Error).message).slice(0, 4000)}`);
  }
}
process.exit(failed ? 1 : 0);
