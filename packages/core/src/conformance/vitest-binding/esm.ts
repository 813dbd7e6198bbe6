import type * as Vitest from 'vitest';
import { ErrorCode, KeyledgerError } from '../../index.js';

// Only a vitest worker (which sets VITEST, see vitest's docs on process.env.VITEST) loads vitest,
// and only if it resolves: runConformance and `keyledger conformance` never need it, and a project
// without vitest can import this module. describe/it must be registered synchronously while vitest
// collects a file, so the binding is resolved here, before describeRegistryStore can be called.
const loaded: typeof Vitest | undefined = process.env.VITEST ? await import('vitest').catch(() => undefined) : undefined;

export function vitest(): Pick<typeof Vitest, 'describe' | 'it'> {
  if (!loaded) {
    throw new KeyledgerError(
      ErrorCode.TEST_RUNNER_MISSING,
      'describeRegistryStore registers vitest cases and must run inside vitest (vitest run); without vitest call runConformance',
    );
  }
  return loaded;
}
