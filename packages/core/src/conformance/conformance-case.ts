import type { RegistryStore } from '../index.js';
import type { Capability, ConformanceOptions } from './options.js';

/** What a case receives: fresh directories, store handles that are closed for it, and a way to skip. */
export interface CaseContext {
  readonly options: ConformanceOptions;
  /** A fresh, empty directory for this case. */
  freshDir(): Promise<string>;
  /** Opens a store over `dir` (a fresh one when omitted); the case's stores are closed after it. */
  open(dir?: string): Promise<RegistryStore>;
  /** Closes `store` (one this context opened) and opens a new store over the same directory. */
  reopen(store: RegistryStore): Promise<RegistryStore>;
  /** Ends the case as skipped with a reason. */
  skip(reason: string): never;
}

export interface ConformanceCase {
  /** The clause group, one per file: 'contract', 'traits', 'atomicity', … */
  group: string;
  name: string;
  /** Capabilities from the options' manifest the case needs; it is skipped, with the reason, without them. */
  needs?: readonly Capability[];
  /**
   * The broken store in core's test/conformance/broken-stores.test.ts that this case exists to
   * catch (a case that guards a class of bug names the bug, and the suite's own tests prove it).
   */
  catches?: string;
  run(ctx: CaseContext): Promise<void>;
}

export type CaseStatus = 'passed' | 'failed' | 'skipped';

export interface CaseResult {
  group: string;
  name: string;
  status: CaseStatus;
  /** Why it failed or was skipped. */
  reason?: string;
  /** The error code of a failure, when the failure carried one (ERR_STORE_CONTRACT: fix the backend first). */
  code?: string;
  durationMs: number;
}

export interface ConformanceReport {
  name: string;
  passed: number;
  failed: number;
  skipped: number;
  cases: CaseResult[];
  /**
   * Exceptions nobody caught (a backend timer that throws, a promise nobody awaited) while the
   * suite ran, with the case that was running; each also fails that case.
   */
  uncaught: { during: string; error: string }[];
}

/** Thrown by `ctx.skip`; the runners turn it into a skipped result. */
export class SkipCase {
  constructor(readonly reason: string) {}
}
