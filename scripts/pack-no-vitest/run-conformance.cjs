// CJS consumer without vitest: require('@keyledger/core/conformance') and run it.
const { MemoryRegistryStore } = require('@keyledger/core');
const { runConformance } = require('@keyledger/core/conformance');

runConformance({ name: 'memory', open: () => new MemoryRegistryStore(), filter: 'scan' }).then((report) => {
  if (report.cases.length === 0 || report.failed > 0) throw new TypeError(`cjs: unexpected report ${JSON.stringify(report)}`);
  console.log(`cjs without vitest: runConformance ran ${report.cases.length} cases, ${report.passed} passed`);
});
