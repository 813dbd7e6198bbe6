// Child process: registers `total` new slots in groups on a fresh store and reports how far the
// resident set grew above where it stood after opening. Run alone in its own process so that
// nothing else (the parent's stores, its prepared rounds) is counted.
//   node --expose-gc rss-child.mjs <backend> <dir> <total> <groupSize> [keyledger|raw]
// keyledger: applyEntries through the adapter; raw: the raw baseline's group commit on the same
// keys, for comparison (what the library and V8 themselves take for the same work).
import { readFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';
import { Applier } from '@keyledger/core';
import { KEYLEDGER, RAW } from './backends.mjs';
import { rssEntries, rssRawGroup } from './workload.mjs';

const [backend, dir, totalArg, groupArg, mode = 'keyledger'] = process.argv.slice(2);
const total = Number(totalArg);
const groupSize = Number(groupArg);
/** The share of the run after which a second baseline is taken, once V8 and the backend have sized their working set. */
const WARM_UP = 0.05;

/** V8's young generation: the semi-spaces V8 sizes by how many bytes survive its scavenges, up to `--max-semi-space-size`. */
const YOUNG = new Set(['new_space', 'new_large_object_space']);

/**
 * Resident set split as the kernel counts it: anonymous (heap, native allocations) and file-backed
 * (mapped files, code); and the V8 heap, split into its young generation and the rest.
 */
function rss() {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  const m = process.memoryUsage();
  let v8Young = 0;
  for (const s of getHeapSpaceStatistics()) if (YOUNG.has(s.space_name)) v8Young += s.space_size;
  return { total: m.rss, anon: kb('RssAnon'), file: kb('RssFile'), v8Heap: m.heapTotal, v8Young };
}

/** One group of `n` new slots from `start`: returns after its durable commit. */
let applyGroup;
let close;
if (mode === 'raw') {
  const raw = await RAW[backend](dir);
  applyGroup = async (start, n) => {
    const { keys, rows } = rssRawGroup(start, n, 1);
    await raw.group(keys, rows);
  };
  close = () => raw.close();
} else {
  const { store } = await KEYLEDGER[backend](dir);
  const applier = await Applier.open(store);
  let index = 0n;
  applyGroup = async (start, n) => {
    // Entries are made per group and dropped after it: holding a million of them would be the
    // benchmark's own growth, not the applier's.
    const entries = rssEntries(start, n, 1);
    const items = new Array(n);
    for (let i = 0; i < n; i++) items[i] = { entry: entries[i], index: ++index };
    const results = await applier.applyEntries(items);
    if (results.length !== n || results[n - 1].effect !== 'inserted') throw new Error('rss run: a registration was not inserted');
  };
  close = async () => {
    await applier.close();
    await store.close();
  };
}

globalThis.gc?.();
const base = rss();
const peak = { ...base };
let warm;
const peakAfterWarmUp = {};
/** RSS at every tenth of the run: a cache of rows would keep climbing, a bounded working set levels off. */
const trail = [];
const t0 = performance.now();
for (let start = 0; start < total; start += groupSize) {
  const n = Math.min(groupSize, total - start);
  await applyGroup(start, n);
  const now = rss();
  for (const k of Object.keys(peak)) if (now[k] > peak[k]) peak[k] = now[k];
  if (warm === undefined && start + n >= total * WARM_UP) {
    warm = now;
    Object.assign(peakAfterWarmUp, now);
  } else if (warm !== undefined) {
    for (const k of Object.keys(peakAfterWarmUp)) if (now[k] > peakAfterWarmUp[k]) peakAfterWarmUp[k] = now[k];
  }
  if ((start + n) % (total / 10) < groupSize) trail.push({ applied: start + n, total: now.total, anon: now.anon, file: now.file });
}
const seconds = (performance.now() - t0) / 1000;
await close();
const diff = (a, b) => Object.fromEntries(Object.keys(a).map((k) => [k, a[k] - b[k]]));
process.stdout.write(
  JSON.stringify({
    mode,
    base,
    peak,
    growth: diff(peak, base),
    warmUpShare: WARM_UP,
    growthAfterWarmUp: diff(peakAfterWarmUp, warm),
    trail,
    seconds,
    opsPerSec: total / seconds,
  }),
);
