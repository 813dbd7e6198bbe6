import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findStrace } from '@keyledger/harness';
import { ErrorCode, KeyledgerError, hasCode, reasonCode, type RegistryStore } from '../index.js';
import { type CaseContext, type CaseResult, type ConformanceCase, SkipCase } from './conformance-case.js';
import type { Capability, ConformanceOptions } from './options.js';

/** Why a case that needs `capability` cannot run with these options, or undefined when it can. */
function missing(capability: Capability, o: ConformanceOptions): string | undefined {
  switch (capability) {
    case 'durable':
      return o.durable === false ? 'the store is not durable (durable: false): nothing survives close' : undefined;
    case 'getMany':
      return o.getMany === false ? 'the store does not offer getMany (getMany: false); the applier falls back to get' : undefined;
    case 'module':
      return o.module ? undefined : 'no module option: the case opens the store in a child process from a module exporting openStore(dir)';
    case 'strace':
      if (!o.module) return 'no module option: strace traces the store in a child process opened from the module';
      if (o.strace === false) return 'strace: false in the options';
      return findStrace() ? undefined : 'strace is not on PATH (apt-get install strace)';
    case 'breakBackend':
      return o.breakBackend ? undefined : 'no breakBackend option: cannot make the backend fail under the store';
    case 'failNextWrite':
      return o.failNextWrite ? undefined : 'no failNextWrite option: cannot make a persist fail under the store';
  }
}

/**
 * Runs cases one at a time for one set of options. Each case gets its own directories and has
 * every store it opened closed afterwards, whatever happened. Once a case fails because the
 * backend broke the store contract (ERR_STORE_CONTRACT), later cases are skipped with a pointer to
 * it: one clear failure instead of fifty that all stem from it.
 */
export class CaseRunner {
  #contractBreak: string | undefined;

  constructor(readonly options: ConformanceOptions) {}

  async run(c: ConformanceCase): Promise<CaseResult> {
    const base = { group: c.group, name: c.name };
    const unmet = this.#contractBreak ?? c.needs?.map((n) => missing(n, this.options)).find((r) => r !== undefined);
    if (unmet !== undefined) return { ...base, status: 'skipped', reason: unmet, durationMs: 0 };
    const started = performance.now();
    const dirs: string[] = [];
    /** Every store the case opened, with its directory. */
    const stores = new Map<RegistryStore, string>();
    const freshDir = async (): Promise<string> => {
      const dir = await mkdtemp(join(this.options.tmpDir ?? tmpdir(), 'keyledger-conformance-'));
      dirs.push(dir);
      return dir;
    };
    const open = async (dir?: string): Promise<RegistryStore> => {
      const at = dir ?? (await freshDir());
      const store = await this.options.open(at);
      stores.set(store, at);
      return store;
    };
    const ctx: CaseContext = {
      options: this.options,
      freshDir,
      open,
      async reopen(store) {
        const dir = stores.get(store);
        if (dir === undefined) throw new KeyledgerError(ErrorCode.INVALID_ARGUMENT, 'reopen: the store was not opened by this case');
        await store.close();
        return open(dir);
      },
      skip(reason) {
        throw new SkipCase(reason);
      },
    };
    try {
      await c.run(ctx);
      return { ...base, status: 'passed', durationMs: performance.now() - started };
    } catch (err) {
      const durationMs = performance.now() - started;
      if (err instanceof SkipCase) return { ...base, status: 'skipped', reason: err.reason, durationMs };
      const reason = err instanceof Error ? err.message : String(err);
      const code = reasonCode(err);
      if (hasCode(err, ErrorCode.STORE_CONTRACT)) {
        this.#contractBreak = `not run: the backend broke the store contract in "${c.group} › ${c.name}"; fix that first`;
      }
      return { ...base, status: 'failed', reason, ...(code === undefined ? {} : { code }), durationMs };
    } finally {
      for (const s of stores.keys()) await s.close().catch(() => undefined);
      for (const d of dirs) await rm(d, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}
