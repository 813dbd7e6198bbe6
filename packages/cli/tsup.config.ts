import { sharedOptions } from '@keyledger/build-config';
import { defineConfig } from 'tsup';

export default defineConfig({
  ...sharedOptions,
  entry: { bin: 'src/bin.ts' },
  format: ['esm'],
  banner: { js: '#!/usr/bin/env node' },
});
