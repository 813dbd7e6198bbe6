import { fail } from 'node:assert/strict';
import { allCases } from './all-cases.js';
import { runCase } from './case-runner.js';
import type { ConformanceOptions } from './conformance-case.js';
// Resolved per output format by tsup.config.ts: a static vitest import in ESM, a lazy one in CommonJS.
import { describe, it } from './vitest-binding/esm.js';

/**
 * Registers the suite with vitest: one `describe` per clause group, one `it` per case.
 * Call it first in a backend's test file, then add the backend's own cases.
 *
 * @example
 * describeRegistryStore({ name: 'sqlite', open: (dir) => SqliteRegistryStore.open(join(dir, 'db')) });
 */
export function describeRegistryStore(options: ConformanceOptions): void {
  const groups = [...new Set(allCases.map((c) => c.group))];
  describe(`RegistryStore conformance: ${options.name ?? 'store'}`, () => {
    for (const group of groups) {
      describe(group, () => {
        for (const c of allCases.filter((x) => x.group === group)) {
          it(c.name, async (t) => {
            const result = await runCase(c, options, (reason) => t.skip(reason));
            if (result.status === 'failed') fail(`${c.group} › ${c.name}: ${result.reason}`);
          });
        }
      });
    }
  });
}
