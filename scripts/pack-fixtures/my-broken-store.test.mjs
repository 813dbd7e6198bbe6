import { fileURLToPath } from 'node:url';
import { describeRegistryStore } from '@keyledger/core/conformance';
import { openStore } from './my-broken-store.mjs';

describeRegistryStore({
  name: 'json-file, broken',
  open: openStore,
  module: fileURLToPath(new URL('./my-broken-store.mjs', import.meta.url)),
});
