// How this run's ratios moved against an earlier run's results JSON (by default the file this run
// replaces): every ratio of keyledger against raw or against itself where higher is better, per
// backend, with the ones that fell by more than FALL_LIMIT flagged. A ratio, not a throughput, is
// compared, because both of its figures come from one run: machines and days differ, ratios less.
import { existsSync, readFileSync } from 'node:fs';
import { renderTable } from './report.mjs';

/** How far a ratio may fall against the earlier run before it is flagged (issue 13's bound). */
export const FALL_LIMIT = 0.03;

/** The ratios where higher is better and keyledger's code is in the figure (raw-only context ratios are left out). */
const HIGHER_IS_BETTER = [
  ['perEntryVsRaw', 'per-entry apply / raw per-op'],
  ['groupedVsRaw', 'grouped apply / raw grouped'],
  ['groupedVsPerEntry', 'grouped apply / per-entry apply'],
  ['perEntryFullVsEmpty', 'per-entry @big / @empty'],
  ['groupedFullVsEmpty', 'grouped @big / @empty'],
  ['groupedScatteredVsRaw', 'scattered: grouped / raw grouped, @big'],
  ['sustainedVsRaw', 'sustained over the RSS runs: keyledger / raw'],
  ['replayCliVsInProcess', 'keyledger replay / applyEntries in-process'],
  ['pipelinedVsGroupedBy64', '64 calls in flight / groups of 64'],
  ['pipelinedVsSequential', '64 calls in flight / each awaited'],
];

/** The earlier results at `path`, or undefined when there is no such file. */
export function readEarlier(path) {
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined;
}

/** `{ rows, fell }`: a row per ratio (earlier → now per backend) and the ratios that fell by more than FALL_LIMIT. */
export function changes(result, earlier) {
  const backends = Object.keys(result.backends).filter((b) => earlier.backends?.[b]?.ratios);
  const fell = [];
  const rows = HIGHER_IS_BETTER.map(([id, label]) => [
    label,
    ...backends.map((b) => {
      const before = earlier.backends[b].ratios[id];
      const now = result.backends[b].ratios[id];
      if (typeof before !== 'number' || typeof now !== 'number') return 'n/a';
      const flagged = before - now > FALL_LIMIT;
      if (flagged) fell.push(`${b} ${id} ${before.toFixed(2)} → ${now.toFixed(2)}`);
      return `${before.toFixed(2)} → ${now.toFixed(2)}${flagged ? ' FELL' : ''}`;
    }),
  ]);
  return { head: ['ratio (earlier run → this run)', ...backends], rows, fell };
}

/** The changes as a table and a one-line verdict, `label` naming the earlier run. */
export function changesReport(result, earlier, label, format = 'text') {
  const { head, rows, fell } = changes(result, earlier);
  const verdict = fell.length
    ? `${fell.length} ratio(s) fell by more than ${FALL_LIMIT} against ${label}: ${fell.join('; ')}`
    : `no ratio fell by more than ${FALL_LIMIT} against ${label}`;
  return `${renderTable(head, rows, format)}\n${verdict}`;
}
