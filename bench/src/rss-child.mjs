// Child process: applies `total` new registrations in groups through a fresh store and reports
// how far the resident set grew above where it stood after opening. Run alone in its own process
// so that nothing else (the parent's stores, its prepared rounds) is counted.
//   node --expose-gc rss-child.mjs <backend> <dir> <total> <groupSize>
import { readFileSync } from 'node:fs';
import { Applier } from '@keyledger/core';
import { KEYLEDGER } from './backends.mjs';
import { registrationOf, rssSlot } from './workload.mjs';

const [backend, dir, totalArg, groupArg] = process.argv.slice(2);
const total = Number(totalArg);
const groupSize = Number(groupArg);

/** Resident set split as the kernel counts it: anonymous (heap, native allocations) and file-backed (mapped files, code). */
function rss() {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { total: process.memoryUsage.rss(), anon: kb('RssAnon'), file: kb('RssFile') };
}

const { store } = await KEYLEDGER[backend](dir);
const applier = await Applier.open(store);
globalThis.gc?.();
const base = rss();
const peak = { ...base };
let index = 0n;
const t0 = performance.now();
for (let start = 0; start < total; start += groupSize) {
  const n = Math.min(groupSize, total - start);
  // Entries are made per group and dropped after it: holding a million of them would be the
  // benchmark's own growth, not the applier's.
  const items = new Array(n);
  for (let i = 0; i < n; i++) items[i] = { entry: registrationOf(rssSlot(start + i), 1), index: ++index };
  const results = await applier.applyEntries(items);
  if (results.length !== n || results[n - 1].effect !== 'inserted') throw new Error('rss run: a registration was not inserted');
  const now = rss();
  for (const k of ['total', 'anon', 'file']) if (now[k] > peak[k]) peak[k] = now[k];
}
const seconds = (performance.now() - t0) / 1000;
await applier.close();
await store.close();
process.stdout.write(
  JSON.stringify({
    base,
    peak,
    growth: { total: peak.total - base.total, anon: peak.anon - base.anon, file: peak.file - base.file },
    seconds,
    opsPerSec: total / seconds,
  }),
);
