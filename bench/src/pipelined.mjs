// Automatic group commit (issue 16.1), side by side in one run on every backend: `applyEntry` with
// 64 calls in flight, `applyEntries` with groups of 64, and sequential `applyEntry` (each awaited).
//
//   pnpm --filter @keyledger/bench bench:pipelined [--slots N] [--rounds R] [--chunks C]
//
// Each scenario has its own store and applier; chunks are interleaved as in the main bench so a
// noisy neighbour slows all three alike. Ratios are of medians from this run.
import { Applier } from '@keyledger/core';
import { BACKENDS, KEYLEDGER } from './backends.mjs';
import { interleaved, scenario } from './scenarios.mjs';
import { freshDir, removeTempRoot } from './tmpdir.mjs';
import { SlotAllocator } from './workload.mjs';

const IN_FLIGHT = 64;
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const slots = arg('slots', 256);
const rounds = arg('rounds', 3);
const chunks = arg('chunks', 2);
const only = process.argv.includes('--backends') ? process.argv[process.argv.indexOf('--backends') + 1].split(',') : BACKENDS;

const rows = [];
try {
  for (const backend of only) {
    const opened = await Promise.all(['pipelined', 'grouped', 'sequential'].map((n) => KEYLEDGER[backend](freshDir(`${backend}-${n}`))));
    const appliers = await Promise.all(opened.map(({ store }) => Applier.open(store)));
    const [pipelinedApplier, groupedApplier, sequentialApplier] = appliers;
    // Sequential applyEntry pays one fsync per entry: a tenth of the slots keeps its chunks comparable in time.
    const out = await interleaved(
      {
        pipelined: scenario.pipelined(pipelinedApplier, new SlotAllocator(), slots, IN_FLIGHT),
        grouped: scenario.grouped(groupedApplier, new SlotAllocator(), slots, IN_FLIGHT),
        sequential: scenario.perEntry(sequentialApplier, new SlotAllocator(), Math.max(8, slots / 8)),
      },
      rounds,
      chunks,
    );
    for (const a of appliers) await a.close();
    for (const { store } of opened) await store.close();
    const p = out.pipelined.median;
    const g = out.grouped.median;
    const s = out.sequential.median;
    rows.push({ backend, pipelined: p, grouped: g, sequential: s, vsGrouped: p / g, vsSequential: p / s });
    console.log(
      `${backend}: pipelined ${p.toFixed(0)} ops/s, applyEntries(64) ${g.toFixed(0)} ops/s, sequential ${s.toFixed(0)} ops/s; ` +
        `pipelined/grouped ${(p / g).toFixed(2)}×, pipelined/sequential ${(p / s).toFixed(1)}×`,
    );
  }
} finally {
  removeTempRoot();
}
console.log(JSON.stringify({ inFlight: IN_FLIGHT, slots, rounds, chunks, rows }, null, 2));
