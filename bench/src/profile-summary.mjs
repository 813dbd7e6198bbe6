// Summarises a .cpuprofile: self time per function and per file, top N.
//   node src/profile-summary.mjs profiles/x.cpuprofile [N]
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
const top = Number(topArg ?? 25);
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = prof.timeDeltas;
for (let i = 0; i < prof.samples.length; i++) {
  const n = byId.get(prof.samples[i]);
  self.set(n, (self.get(n) ?? 0) + (dt[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const agg = (keyOf) => {
  const m = new Map();
  for (const [n, t] of self) m.set(keyOf(n), (m.get(keyOf(n)) ?? 0) + t);
  return [...m].sort((a, b) => b[1] - a[1]).slice(0, top);
};
const short = (url) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, '')
    .replace(/.*\/packages\//, '');
const pct = (t) => `${((100 * t) / total).toFixed(1).padStart(5)}%`;
console.log(`total sampled ${(total / 1000).toFixed(0)} ms`);
console.log('\nself time by function:');
for (const [k, t] of agg((n) => `${n.callFrame.functionName || '(anonymous)'}  ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`))
  console.log(pct(t), k);
console.log('\nself time by file:');
for (const [k, t] of agg((n) => short(n.callFrame.url) || `(${n.callFrame.functionName})`)) console.log(pct(t), k);

/** Where the time went, in the terms of BENCHMARKS.md: keyledger (core, adapter), the storage library, V8/Node, the harness. */
function area(n) {
  const url = n.callFrame.url;
  const fn = n.callFrame.functionName;
  if (url.includes('/packages/core/dist/') || url.includes('/kb-old/packages/core/')) return 'keyledger core';
  if (/\/packages\/(lmdb|level|sqlite)\/dist\//.test(url)) return 'keyledger adapter';
  if (
    /node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?(lmdb|classic-level|abstract-level|level-transcoder|better-sqlite3|level|maybe-combine-errors|module-error)\//.test(
      url,
    )
  )
    return 'storage library (JS and native calls)';
  if (url.includes('/bench/src/')) return 'harness';
  if (fn === '(idle)') return 'idle (waiting on I/O or the write thread)';
  if (fn === '(garbage collector)') return 'garbage collector';
  return 'Node / V8 other';
}
console.log('\nself time by area:');
for (const [k, t] of agg(area)) console.log(pct(t), k);
