// Ratios, targets, the printed tables.
import Table from 'cli-table3';

const MiB = 1024 * 1024;
/** No colours: the tables are pasted into BENCHMARKS.md and read from CI logs. */
const PLAIN = { head: [], border: [] };

/** The targets of the issue, each a ratio (or figure) of one backend from the same run. */
export const TARGETS = [
  { id: 'perEntryVsRaw', label: 'per-entry durable apply / raw per-op', op: '>=', limit: 0.9 },
  { id: 'groupedVsRaw', label: 'grouped apply / raw grouped', op: '>=', limit: 0.8 },
  { id: 'groupedVsPerEntry', label: 'grouped apply / per-entry apply', op: '>=', limit: 25, backends: ['lmdb', 'sqlite'] },
  { id: 'perEntryFullVsEmpty', label: 'per-entry @big store / @empty', op: '>=', limit: 0.7 },
  { id: 'groupedFullVsEmpty', label: 'grouped @big store / @empty', op: '>=', limit: 0.7 },
  { id: 'rssAnonOverRawMiB', label: 'anonymous RSS growth, keyledger minus raw library (MiB)', op: '<=', limit: 4 },
  { id: 'openFullVsSmall', label: 'open Applier @big store / @10 rows', op: '<=', limit: 2 },
];

export function ratios(f) {
  return {
    perEntryVsRaw: f.perEntry.median / f.rawPerOp.median,
    groupedVsRaw: f.grouped.median / f.rawGrouped.median,
    groupedVsPerEntry: f.grouped.median / f.perEntry.median,
    perEntryFullVsEmpty: f.perEntryFull.median / f.perEntry.median,
    groupedFullVsEmpty: f.groupedFull.median / f.grouped.median,
    rssGrowthMiB: f.rss.growth.total / MiB,
    rssOverRawMiB: (f.rss.growth.total - f.rawRss.growth.total) / MiB,
    rssAnonOverRawMiB: (f.rss.growth.anon - f.rawRss.growth.anon) / MiB,
    rssAnonOverRawOutsideYoungMiB: (anonOutsideYoung(f.rss) - anonOutsideYoung(f.rawRss)) / MiB,
    rssGrowthAfterWarmUpMiB: f.rss.growthAfterWarmUp.total / MiB,
    openFullVsSmall: f.openFull.median / f.openSmall.median,
    perEntryVsDisk: f.perEntry.median / f.disk.median,
    groupedScatteredVsRaw: f.groupedScattered.median / f.rawGroupedScattered.median,
    rawScatteredVsRaw: f.rawGroupedScattered.median / f.rawGrouped.median,
    rawGroupedFullVsEmpty: f.rawGroupedFull.median / f.rawGrouped.median,
    sustainedVsRaw: f.rss.opsPerSec / f.rawRss.opsPerSec,
    openManyDeksVsFew: f.openMany.median / f.openFew.median,
    rotateManyDeksVsFew: f.rotateMany.median / f.rotateFew.median,
    replayCliVsInProcess: f.replayCli.median / f.replayInProcess.median,
  };
}

/** Anonymous growth less V8's young generation: what stays when V8 has sized its semi-spaces alike. */
function anonOutsideYoung(run) {
  return run.growth.anon - run.growth.v8Young;
}

/** The anonymous growth of an RSS run, split: V8's young generation, the rest of V8's heap, outside V8's heap. */
function anonSplit(run) {
  const g = run.growth;
  return `${mib(g.v8Young)} / ${mib(g.v8Heap - g.v8Young)} / ${mib(g.anon - g.v8Heap)}`;
}

export function checkTargets(backend, r) {
  return TARGETS.filter((t) => !t.backends || t.backends.includes(backend)).map((t) => {
    const value = r[t.id];
    const met = t.op === '>=' ? value >= t.limit : t.op === '<' ? value < t.limit : value <= t.limit;
    return { backend, target: t.id, label: t.label, value, op: t.op, limit: t.limit, met };
  });
}

/** The first backend's figures, for labels that are the same for all. */
const f0 = (result) => Object.values(result.backends)[0].rss;
const int = (x) => Math.round(x).toLocaleString('en');
const ms = (x) => (x < 1 ? x.toFixed(3) : x.toFixed(2));
const mib = (b) => (b / MiB).toFixed(1);
const kib = (b) => (b / 1024).toFixed(1);

/** [label, cells…] rows of the figures table: medians, one column per backend. */
export function figureRows(result) {
  const backends = Object.keys(result.backends);
  const big = result.params.prefillRows.toLocaleString('en');
  const g = result.params.groupSize;
  const rows = [];
  const row = (label, fn) => rows.push([label, ...backends.map((b) => fn(result.backends[b]))]);
  row('disk: write 64 B + fsync (ops/s)', (f) => int(f.disk.median));
  row('raw: 1 read-modify-write per commit (ops/s)', (f) => int(f.rawPerOp.median));
  row('keyledger: applyEntry, 1 per commit (ops/s)', (f) => int(f.perEntry.median));
  row(`keyledger: applyEntry @${big} rows (ops/s)`, (f) => int(f.perEntryFull.median));
  row(`raw: ${g} RMW per commit (ops/s)`, (f) => int(f.rawGrouped.median));
  row(`keyledger: applyEntries ×${g} (ops/s)`, (f) => int(f.grouped.median));
  row(`keyledger: applyEntries @${big} rows (ops/s)`, (f) => int(f.groupedFull.median));
  row(`raw: ${g} RMW per commit @${big} rows (ops/s)`, (f) => int(f.rawGroupedFull.median));
  row(`raw: groups scattered among ${big} rows (ops/s)`, (f) => int(f.rawGroupedScattered.median));
  row('keyledger: same, applyEntries (ops/s)', (f) => int(f.groupedScattered.median));
  row(`RSS growth, ${result.params.rssEntries.toLocaleString('en')} grouped applies (MiB)`, (f) => mib(f.rss.growth.total));
  row('  of which anonymous / file-backed (MiB)', (f) => `${mib(f.rss.growth.anon)} / ${mib(f.rss.growth.file)}`);
  row('  anonymous: V8 young gen. / rest of V8 heap / outside V8 (MiB)', (f) => anonSplit(f.rss));
  row(`  after the first ${f0(result).warmUpShare * 100}% of the run (MiB)`, (f) => mib(f.rss.growthAfterWarmUp.total));
  row('  sustained rate of that run (ops/s)', (f) => int(f.rss.opsPerSec));
  row('raw library, same run: RSS growth (MiB)', (f) => mib(f.rawRss.growth.total));
  row('  of which anonymous / file-backed (MiB)', (f) => `${mib(f.rawRss.growth.anon)} / ${mib(f.rawRss.growth.file)}`);
  row('  anonymous: V8 young gen. / rest of V8 heap / outside V8 (MiB)', (f) => anonSplit(f.rawRss));
  row('  sustained rate of that run (ops/s)', (f) => int(f.rawRss.opsPerSec));
  row('Applier.open, 10 rows (ms)', (f) => ms(f.openSmall.median));
  row(`Applier.open, ${big} rows (ms)`, (f) => ms(f.openFull.median));
  row('cold open (store + Applier), 10 rows (ms)', (f) => ms(f.coldOpenSmall.median));
  row(`cold open (store + Applier), ${big} rows (ms)`, (f) => ms(f.coldOpenFull.median));
  const many = result.params.manyDeks.toLocaleString('en');
  row(`Applier.open, 10 / ${many} DEKs in the state (ms)`, (f) => `${ms(f.openFew.median)} / ${ms(f.openMany.median)}`);
  row(`a DEK rotation's applyEntry, 10 / ${many} DEKs (ms)`, (f) => `${ms(f.rotateFew.median)} / ${ms(f.rotateMany.median)}`);
  row(`  state record, 10 / ${many} DEKs (KiB)`, (f) => `${kib(f.stateRecordBytesFew)} / ${kib(f.stateRecordBytesMany)}`);
  const replayed = result.params.replayEntries.toLocaleString('en');
  row(`keyledger replay, own process, ${replayed} entries (entries/s)`, (f) => int(f.replayCli.median));
  row('applyEntries in-process, same entries (entries/s)', (f) => int(f.replayInProcess.median));
  row('  keyledger --version, process start to exit (ms)', (f) => ms(f.cliStart.median));
  return rows;
}

/** [label, cells…] rows of the targets table, then the context ratios (no target). */
export function targetRows(result) {
  const backends = Object.keys(result.backends);
  const rows = [];
  for (const t of TARGETS) {
    rows.push([
      `${t.label} ${t.op} ${t.limit}`,
      ...backends.map((b) => {
        const c = result.targets.find((x) => x.backend === b && x.target === t.id);
        const v = result.backends[b].ratios[t.id];
        const shown = t.id.endsWith('MiB') ? v.toFixed(1) : v.toFixed(2);
        return c ? `${shown} ${c.met ? 'met' : 'MISSED'}` : `${shown} (no target)`;
      }),
    ]);
  }
  const context = [
    ['per-entry apply / disk fsync rate', 'perEntryVsDisk'],
    ['grouped, sustained over the RSS runs: keyledger / raw', 'sustainedVsRaw'],
    ['anonymous RSS growth over raw, V8 young generation excluded (MiB)', 'rssAnonOverRawOutsideYoungMiB'],
    ['RSS growth over the grouped run, file-backed included (MiB)', 'rssGrowthMiB'],
    ['RSS growth: keyledger minus raw library (MiB)', 'rssOverRawMiB'],
    ['RSS growth after warm-up (MiB)', 'rssGrowthAfterWarmUpMiB'],
    ['Applier.open @many DEKs / @10 DEKs', 'openManyDeksVsFew'],
    ['rotation @many DEKs / @10 DEKs', 'rotateManyDeksVsFew'],
    ['keyledger replay (own process) / applyEntries in-process', 'replayCliVsInProcess'],
    ['raw grouped @big store / @empty', 'rawGroupedFullVsEmpty'],
    ['scattered: raw grouped @big / raw grouped @empty', 'rawScatteredVsRaw'],
    ['scattered: grouped apply / raw grouped, both @big', 'groupedScatteredVsRaw'],
  ];
  for (const [label, id] of context) {
    rows.push([`${label} (context)`, ...backends.map((b) => result.backends[b].ratios[id].toFixed(id.endsWith('MiB') ? 1 : 2))]);
  }
  return rows;
}

function cliTable(head, rows) {
  const table = new Table({ style: PLAIN, head, colAligns: ['left', ...head.slice(1).map(() => 'right')] });
  for (const r of rows) table.push(r);
  return table.toString();
}

function markdownTable(head, rows) {
  const line = (cells) =>
    `| ${cells
      .map((c) =>
        String(c)
          .replaceAll('|', '\\|')
          .replace(/^ +/, (sp) => '&nbsp;'.repeat(sp.length)),
      )
      .join(' | ')} |`;
  return [line(head), `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map(line)].join('\n');
}

export function figuresTable(result, format = 'text') {
  const head = ['median of rounds', ...Object.keys(result.backends)];
  return (format === 'markdown' ? markdownTable : cliTable)(head, figureRows(result));
}

export function targetsTable(result, format = 'text') {
  const head = ['target', ...Object.keys(result.backends)];
  return (format === 'markdown' ? markdownTable : cliTable)(head, targetRows(result));
}
