import { fileURLToPath } from 'node:url';
import { describeRegistryStore } from '../../src/conformance/index.js';
// @ts-expect-error -- a plain .mjs fixture without types
import { failNextWrite, openStore } from '../fixtures/json-file-store.mjs';

// A durable file-backed store passes every case, the crash, strace and failed-persist cases included.
describeRegistryStore({
  name: 'json-file',
  open: (dir: string) => openStore(dir),
  module: fileURLToPath(new URL('../fixtures/json-file-store.mjs', import.meta.url)),
  failNextWrite,
});
