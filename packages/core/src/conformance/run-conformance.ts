import { allCases } from './all-cases.js';
import { runCase } from './case-runner.js';
import type { CaseResult, ConformanceOptions, ConformanceReport } from './conformance-case.js';

export interface RunConformanceOptions extends ConformanceOptions {
  /** Called after each case, for progress output. */
  onCase?(result: CaseResult): void;
  /** Runs only the cases whose `group › name` includes this string. */
  filter?: string;
}

/**
 * Runs the whole suite without a test framework and returns a report; `keyledger conformance`
 * uses it. A case that cannot run is reported as skipped with its reason, never as passed.
 */
export async function runConformance(options: RunConformanceOptions): Promise<ConformanceReport> {
  const cases: CaseResult[] = [];
  for (const c of allCases) {
    if (options.filter && !`${c.group} › ${c.name}`.includes(options.filter)) continue;
    const result = await runCase(c, options);
    cases.push(result);
    options.onCase?.(result);
  }
  const count = (s: CaseResult['status']) => cases.filter((c) => c.status === s).length;
  return { name: options.name ?? 'store', passed: count('passed'), failed: count('failed'), skipped: count('skipped'), cases };
}
