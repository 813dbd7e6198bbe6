import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RegistryStore } from '../store/registry-store.js';
import { SkipCase, type CaseContext, type CaseResult, type ConformanceCase, type ConformanceOptions } from './conformance-case.js';

/**
 * Runs one case in its own directories and closes every store it opened, whatever happened:
 * no case depends on another, and a failing case cannot leak a lock into the next one.
 */
export async function runCase(c: ConformanceCase, options: ConformanceOptions, onSkip?: (reason: string) => never): Promise<CaseResult> {
  const started = performance.now();
  const dirs: string[] = [];
  const stores: RegistryStore[] = [];
  const freshDir = async (): Promise<string> => {
    const dir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'keyledger-conformance-'));
    dirs.push(dir);
    return dir;
  };
  const ctx: CaseContext = {
    options,
    freshDir,
    async open(dir) {
      const store = await options.open(dir ?? (await freshDir()));
      stores.push(store);
      return store;
    },
    skip(reason) {
      throw new SkipCase(reason);
    },
  };
  const base = { group: c.group, name: c.name };
  try {
    await c.run(ctx);
    return { ...base, status: 'passed', durationMs: performance.now() - started };
  } catch (err) {
    if (err instanceof SkipCase) {
      if (onSkip) onSkip(err.reason);
      return { ...base, status: 'skipped', reason: err.reason, durationMs: performance.now() - started };
    }
    return { ...base, status: 'failed', reason: err instanceof Error ? err.message : String(err), durationMs: performance.now() - started };
  } finally {
    for (const s of stores) await s.close().catch(() => undefined);
    for (const d of dirs) await rm(d, { recursive: true, force: true }).catch(() => undefined);
  }
}
