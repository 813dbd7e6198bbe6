// The grouped apply path alone, for a CPU profile:
//   node --cpu-prof --cpu-prof-dir=profiles src/profile-grouped.mjs [backend] [groups]
// Applies `groups` groups of 1,000 new registrations, then as many advancing them, on a fresh store.
import { Applier } from '@keyledger/core';
import { KEYLEDGER } from './backends.mjs';
import { dropDir, freshDir, removeTempRoot } from './tmpdir.mjs';
import { SlotAllocator, prepareRound } from './workload.mjs';

const backend = process.argv[2] ?? 'lmdb';
const groups = Number(process.argv[3] ?? 200);
const GROUP = 1000;
const dir = freshDir(`${backend}-profile`);
try {
  const { store } = await KEYLEDGER[backend](dir);
  const applier = await Applier.open(store);
  const slots = new SlotAllocator();
  let index = 0n;
  let ops = 0;
  let ms = 0;
  for (let g = 0; g < groups; g += 10) {
    const round = prepareRound(slots.take(10 * GROUP));
    const t0 = performance.now();
    for (const entries of round.entries) {
      for (let s = 0; s < entries.length; s += GROUP) {
        await applier.applyEntries(entries.slice(s, s + GROUP).map((entry) => ({ entry, index: ++index })));
      }
    }
    ms += performance.now() - t0;
    ops += round.ops;
  }
  console.log(`${backend}: ${ops} grouped applies, ${Math.round(ops / (ms / 1000)).toLocaleString('en')} ops/s`);
  await applier.close();
  await store.close();
} finally {
  dropDir(dir);
  removeTempRoot();
}
