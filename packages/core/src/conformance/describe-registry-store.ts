import { fail } from 'node:assert/strict';
import { allCases } from './all-cases.js';
import { CaseRunner } from './case-runner.js';
import type { ConformanceOptions } from './options.js';
// Resolved per output format by tsup.config.ts: loaded in a vitest worker in ESM, required on call in CommonJS.
import { vitest } from './vitest-binding/esm.js';

/**
 * Registers the suite with vitest: one `describe` per clause group, one `it` per case; a case
 * that cannot run is skipped with its reason. Call it first in a backend's test file (an ES module
 * run by `vitest run`), then add the backend's own cases. Without vitest, use `runConformance`.
 *
 * @example
 * describeRegistryStore({ name: 'sqlite', open: (dir) => SqliteRegistryStore.open(join(dir, 'db')) });
 */
export function describeRegistryStore(options: ConformanceOptions): void {
  const { describe, it } = vitest();
  const runner = new CaseRunner(options);
  const groups = [...new Set(allCases.map((c) => c.group))];
  describe(`RegistryStore conformance: ${options.name ?? 'store'}`, () => {
    for (const group of groups) {
      describe(group, () => {
        for (const c of allCases.filter((x) => x.group === group)) {
          it(c.name, async (t) => {
            const result = await runner.run(c);
            if (result.status === 'skipped') t.skip(result.reason);
            if (result.status === 'failed') fail(`${c.group} › ${c.name}: ${result.reason}`);
          });
        }
      });
    }
  });
}
