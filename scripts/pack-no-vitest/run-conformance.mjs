// ESM consumer without vitest: runConformance from @keyledger/core/conformance against core's
// in-memory store. The README promises the runner works without vitest installed.
import { MemoryRegistryStore } from '@keyledger/core';
import { runConformance } from '@keyledger/core/conformance';

const report = await runConformance({ name: 'memory', open: () => new MemoryRegistryStore(), filter: 'scan' });
if (report.cases.length === 0 || report.failed > 0) throw new TypeError(`esm: unexpected report ${JSON.stringify(report)}`);
console.log(`esm without vitest: runConformance ran ${report.cases.length} cases, ${report.passed} passed`);
