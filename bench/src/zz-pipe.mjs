import { Applier } from '@keyledger/core';
import { KEYLEDGER } from './backends.mjs';
import { freshDir } from './tmpdir.mjs';
import { SlotAllocator, prepareRound } from './workload.mjs';
const [backend, mode] = [process.argv[2] ?? 'sqlite', process.argv[3] ?? 'pipe'];
const store = (await KEYLEDGER[backend](freshDir(`${backend}-p`))).store;
const applier = await Applier.open(store);
const slots = new SlotAllocator();
let raftIndex = 0n;
const rounds = []; for (let r = 0; r < 150; r++) rounds.push(prepareRound(slots.take(512)));
const c0 = process.cpuUsage(); const t0 = performance.now(); let ops = 0;
for (const round of rounds) for (let phase = 0; phase < 2; phase++) {
  const entries = round.entries[phase]; ops += entries.length;
  if (mode === 'pipe') {
    let next = 0;
    const lane = async () => { while (next < entries.length) await applier.applyEntry(entries[next++], ++raftIndex); };
    await Promise.all(Array.from({ length: 64 }, lane));
  } else {
    for (let i = 0; i < entries.length; i += 64) await applier.applyEntries(entries.slice(i, i + 64).map((entry) => ({ entry, index: ++raftIndex })));
  }
}
const c = process.cpuUsage(c0);
console.log(mode, 'wall µs/op', ((performance.now() - t0) * 1000 / ops).toFixed(2), 'user', (c.user / ops).toFixed(2), 'sys', (c.system / ops).toFixed(2));
process.exit(0);
