// CPU µs per sequential `applyEntry` against the raw library's read-modify-write, stores on /dev/shm
// (no fsync cost: isolates CPU). `B=lmdb,level,sqlite N=3000 REPS=5 node src/profile-sequential.mjs`.
import { Applier } from '@keyledger/core';
import { mkdtempSync, rmSync } from 'node:fs';
import { KEYLEDGER, RAW } from './backends.mjs';
import { SlotAllocator, keyOf, rowOf, registrationOf } from './workload.mjs';
const N = Number(process.env.N ?? 3000),
  REPS = Number(process.env.REPS ?? 5);
const out = {};
for (const b of (process.env.B ?? 'lmdb,level,sqlite').split(',')) {
  const dir = mkdtempSync('/dev/shm/seqcpu-');
  const { store } = await KEYLEDGER[b](dir);
  const applier = await Applier.open(store);
  const raw = await RAW[b](dir);
  const ks = new SlotAllocator(),
    rs = new SlotAllocator();
  let idx = 0n;
  const k = [],
    r = [];
  for (let rep = 0; rep < REPS; rep++) {
    const slots = ks.take(N);
    const ents = slots.map((s) => registrationOf(s, 1));
    let c0 = process.cpuUsage();
    for (let i = 0; i < N; i++) await applier.applyEntry(ents[i], ++idx);
    let c = process.cpuUsage(c0);
    k.push((c.user + c.system) / N);
    const rslots = rs.take(N);
    const keys = rslots.map(keyOf),
      rows = rslots.map((s) => rowOf(s, 1, 1));
    c0 = process.cpuUsage();
    for (let i = 0; i < N; i++) await raw.perOp(keys[i], rows[i]);
    c = process.cpuUsage(c0);
    r.push((c.user + c.system) / N);
  }
  const med = (a) => a.slice().sort((x, y) => x - y)[a.length >> 1];
  out[b] = { keyledgerUs: +med(k).toFixed(2), rawUs: +med(r).toFixed(2), ratio: +(med(r) / med(k)).toFixed(2) };
  await applier.close();
  await store.close();
  await raw.close();
  rmSync(dir, { recursive: true });
}
console.log(JSON.stringify(out));
