import { setTimeout as sleep } from 'node:timers/promises';
import { allCases } from './all-cases.js';
import { CaseRunner } from './case-runner.js';
import type { CaseResult, ConformanceReport } from './conformance-case.js';
import type { ConformanceOptions } from './options.js';

export interface RunConformanceOptions extends ConformanceOptions {
  /** Called after each case, for progress output. */
  onCase?(result: CaseResult): void;
  /** Runs only the cases whose `group › name` includes this string. */
  filter?: string;
}

/** How long the run waits after its last case for a backend's stray timer to fire, so it is reported rather than lost. */
const SETTLE_MS = 100;

function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * Runs the whole suite without a test framework and returns a report; `keyledger conformance`
 * uses it. A case that cannot run is reported as skipped with its reason, never as passed.
 *
 * While it runs, an exception nobody catches (a backend timer that throws after its case ended, a
 * rejected promise nobody awaited) does not end the process: it is recorded in `uncaught` and
 * fails the case that was running (or, after the last case, the last one), so the report and its
 * summary always arrive.
 */
export async function runConformance(options: RunConformanceOptions): Promise<ConformanceReport> {
  const runner = new CaseRunner(options);
  const cases: CaseResult[] = [];
  const uncaught: ConformanceReport['uncaught'] = [];
  let current: string | undefined;
  const strays: { during: string | undefined; error: unknown }[] = [];
  const onStray = (error: unknown): void => {
    strays.push({ during: current, error });
  };
  process.on('uncaughtException', onStray);
  process.on('unhandledRejection', onStray);
  const blame = (result: CaseResult): void => {
    for (const s of strays.splice(0)) {
      const error = describeError(s.error);
      const where = s.during ?? `${result.group} › ${result.name}`;
      uncaught.push({ during: where, error });
      const note = `an exception nobody caught surfaced ${s.during ? 'during' : 'after'} this case (it may come from a timer or promise an earlier case's store left behind): ${error}`;
      result.status = 'failed';
      result.reason = result.reason ? `${result.reason}\n${note}` : note;
    }
  };
  try {
    for (const c of allCases) {
      const name = `${c.group} › ${c.name}`;
      if (options.filter && !name.includes(options.filter)) continue;
      current = name;
      const result = await runner.run(c);
      current = undefined;
      // Let timers the case's stores scheduled on close run now, while the case is still the suspect.
      await sleep(0);
      blame(result);
      cases.push(result);
      options.onCase?.(result);
    }
    await sleep(SETTLE_MS);
    const last = cases[cases.length - 1];
    if (last && strays.length > 0) blame(last);
  } finally {
    process.off('uncaughtException', onStray);
    process.off('unhandledRejection', onStray);
  }
  const count = (s: CaseResult['status']) => cases.filter((c) => c.status === s).length;
  return { name: options.name ?? 'store', passed: count('passed'), failed: count('failed'), skipped: count('skipped'), cases, uncaught };
}
