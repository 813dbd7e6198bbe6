import type { RegistryStore } from '@keyledger/core';
import { scanHex } from '../src/digest.js';

// One maker of per-file temporary directories, shared with the adapters' tests.
export { tempDirs } from '@keyledger/harness/adapter';

export async function rowsOf(store: RegistryStore): Promise<string> {
  return JSON.stringify(await scanHex(store));
}
