// Automatic group commit (issue 16.1), side by side in one run on a backend: `applyEntry` with 64
// calls in flight, `applyEntries` with groups of 64, and sequential `applyEntry` (each awaited).
// Run by main.mjs; `pnpm --filter @keyledger/bench bench:pipelined [--quick] [--backends a,b]`
// runs it alone.
//
// Each scenario has its own store and applier; chunks are interleaved as in the main bench so a
// noisy neighbour slows all three alike. The targets are ratios of medians from this run.
import { parseArgs } from 'node:util';
import { Applier } from '@keyledger/core';
import { BACKENDS, KEYLEDGER } from './backends.mjs';
import { interleaved, scenario } from './scenarios.mjs';
import { dropDir, freshDir, removeTempRoot } from './tmpdir.mjs';
import { SlotAllocator } from './workload.mjs';

/** `{ pipelined, groupedBy64, sequential }` figures (ops/s) of one backend. */
export async function benchPipelined(backend, cfg, log) {
  const { pipelinedSlots: slots, pipelinedInFlight: inFlight } = cfg;
  log(
    `${backend}: ${inFlight} applyEntry calls in flight vs applyEntries(${inFlight}) vs sequential applyEntry, ${cfg.pipelinedRounds} rounds`,
  );
  const names = ['pipelined', 'groupedBy64', 'sequential'];
  const dirs = names.map((n) => freshDir(`${backend}-${n}`));
  const opened = await Promise.all(dirs.map((dir) => KEYLEDGER[backend](dir)));
  try {
    const [pipelined, grouped, sequential] = await Promise.all(opened.map(({ store }) => Applier.open(store)));
    try {
      // Sequential applyEntry pays one fsync per entry: an eighth of the slots keeps its chunks comparable in time.
      return await interleaved(
        {
          pipelined: scenario.pipelined(pipelined, new SlotAllocator(), slots, inFlight),
          groupedBy64: scenario.grouped(grouped, new SlotAllocator(), slots, inFlight),
          sequential: scenario.perEntry(sequential, new SlotAllocator(), Math.max(8, slots / 8)),
        },
        cfg.pipelinedRounds,
        cfg.pipelinedChunks,
      );
    } finally {
      for (const a of [pipelined, grouped, sequential]) await a.close();
    }
  } finally {
    for (const { store } of opened) await store.close();
    for (const dir of dirs) dropDir(dir);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2).filter((a) => a !== '--');
  const { values } = parseArgs({
    args: argv,
    options: { quick: { type: 'boolean', default: false }, backends: { type: 'string', default: BACKENDS.join(',') } },
  });
  const { FULL, QUICK } = await import('./config.mjs');
  const { checkTargets, pipelinedFigureRows, pipelinedRatios, renderTable, targetsTable } = await import('./report.mjs');
  const cfg = values.quick ? QUICK : FULL;
  const backends = {};
  try {
    for (const b of values.backends.split(',')) backends[b] = await benchPipelined(b, cfg, (m) => process.stderr.write(`${m}\n`));
  } finally {
    removeTempRoot();
  }
  const result = { params: cfg, backends, targets: [] };
  for (const [b, f] of Object.entries(backends)) {
    f.ratios = pipelinedRatios(f);
    result.targets.push(...checkTargets(b, f.ratios));
  }
  console.log(renderTable(['median of rounds', ...Object.keys(backends)], pipelinedFigureRows(result)));
  console.log(targetsTable(result, 'text', Object.keys(pipelinedRatios({}))));
}
