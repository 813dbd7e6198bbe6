import type * as Vitest from 'vitest';
import { ErrorCode, KeyledgerError } from '../../index.js';

// vitest refuses to be require()d, so the CommonJS build must not load it when the module loads:
// require('@keyledger/core/conformance') has to work for runConformance users. Only a call to
// describeRegistryStore reaches vitest, and from CommonJS that call fails with a clear code.
declare const require: (id: string) => unknown;

export function vitest(): Pick<typeof Vitest, 'describe' | 'it'> {
  try {
    return require('vitest') as typeof Vitest;
  } catch (err) {
    throw new KeyledgerError(
      ErrorCode.TEST_RUNNER_MISSING,
      'describeRegistryStore needs vitest, which cannot be loaded from CommonJS: import @keyledger/core/conformance from an ES module test file, or call runConformance',
      { cause: err },
    );
  }
}
