// The grouped apply path alone, for a CPU profile:
//   node --cpu-prof --cpu-prof-dir=profiles src/profile-grouped.mjs [backend] [groups] [group size, 1,000]
//   node src/profile-summary.mjs profiles/<file>.cpuprofile
// Applies `groups` groups of 1,000 new registrations, then as many advancing them, on a fresh
// store. Entries are written straight into buffers (rssEntries), so the harness itself barely
// shows in the profile.
import { Applier } from '@keyledger/core';
import { KEYLEDGER } from './backends.mjs';
import { dropDir, freshDir, removeTempRoot } from './tmpdir.mjs';
import { rssEntries } from './workload.mjs';

const backend = process.argv[2] ?? 'lmdb';
const groups = Number(process.argv[3] ?? 200);
const GROUP = Number(process.argv[4] ?? 1000);
const dir = freshDir(`${backend}-profile`);
try {
  const { store } = await KEYLEDGER[backend](dir);
  const applier = await Applier.open(store);
  let index = 0n;
  const t0 = performance.now();
  for (let g = 0; g < groups; g++) {
    for (const epoch of [1, 2]) {
      const items = rssEntries(g * GROUP, GROUP, epoch).map((entry) => ({ entry, index: ++index }));
      await applier.applyEntries(items);
    }
  }
  const ms = performance.now() - t0;
  console.log(
    `${backend}: ${2 * groups * GROUP} grouped applies, ${Math.round((2 * groups * GROUP) / (ms / 1000)).toLocaleString('en')} ops/s`,
  );
  await applier.close();
  await store.close();
} finally {
  dropDir(dir);
  removeTempRoot();
}
