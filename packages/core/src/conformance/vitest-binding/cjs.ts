import type * as Vitest from 'vitest';

// vitest refuses to be require()d, so the CommonJS build must not load it when the module loads:
// require('@keyledger/core/conformance') has to work for runConformance users. Only a call to
// describeRegistryStore reaches vitest, and from CommonJS that call fails with vitest's own message.
declare const require: (id: string) => unknown;

function vitest(): typeof Vitest {
  return require('vitest') as typeof Vitest;
}

export const describe = ((...args: Parameters<typeof Vitest.describe>) => vitest().describe(...args)) as typeof Vitest.describe;
export const it = ((...args: Parameters<typeof Vitest.it>) => vitest().it(...args)) as typeof Vitest.it;
