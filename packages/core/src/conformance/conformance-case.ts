import type { RegistryStore } from '../store/registry-store.js';

/** What a backend author passes to the suite. */
export interface ConformanceOptions {
  /** Shown in test names and reports; defaults to the store's `kind`. */
  name?: string;
  /** Opens a store over `dir`, which is fresh or holds what an earlier store in the same case wrote. */
  open(dir: string): Promise<RegistryStore> | RegistryStore;
  /**
   * Absolute path (or file URL) of an ES module exporting `openStore(dir)`, opened in a child
   * process that is killed with SIGKILL for the crash cases. Without it they are skipped.
   */
  module?: string;
  /**
   * Makes the backend fail underneath `store` (for instance closes the library's own handle
   * behind the store's back) for the ERR_STORE_IO cases. Without it they are skipped.
   */
  breakBackend?(store: RegistryStore): Promise<void> | void;
  /** Where the cases' fresh directories are created; defaults to the OS temp directory. */
  tmpDir?: string;
  /** Kill rounds per crash case (default 4). */
  crashRounds?: number;
}

/** What a case receives: fresh directories, store handles that are closed for it, and a way to skip. */
export interface CaseContext {
  readonly options: ConformanceOptions;
  /** A fresh, empty directory for this case. */
  freshDir(): Promise<string>;
  /** Opens a store over `dir` (a fresh one when omitted); the case's stores are closed after it. */
  open(dir?: string): Promise<RegistryStore>;
  /** Ends the case as skipped with a reason. */
  skip(reason: string): never;
}

export interface ConformanceCase {
  /** The clause group, one per file: 'basics', 'scan-order', 'atomicity', … */
  group: string;
  name: string;
  run(ctx: CaseContext): Promise<void>;
}

export type CaseStatus = 'passed' | 'failed' | 'skipped';

export interface CaseResult {
  group: string;
  name: string;
  status: CaseStatus;
  /** Why it failed or was skipped. */
  reason?: string;
  durationMs: number;
}

export interface ConformanceReport {
  name: string;
  passed: number;
  failed: number;
  skipped: number;
  cases: CaseResult[];
}

/** Thrown by `ctx.skip`; the runners turn it into a skipped result. */
export class SkipCase {
  constructor(readonly reason: string) {}
}

/** A memory store forgets everything on close, so cases that reopen a directory cannot apply. */
export function requireDurable(ctx: CaseContext, store: RegistryStore): void {
  if (store.kind === 'memory') ctx.skip('the memory store is not durable: nothing survives close');
}
