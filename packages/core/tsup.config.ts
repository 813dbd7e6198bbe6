import { join } from 'node:path';
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'conformance/index': 'src/conformance/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  external: ['vitest'],
  esbuildPlugins: [
    {
      // vitest cannot be require()d: the CommonJS build binds describe/it lazily (see vitest-binding/cjs.ts).
      name: 'vitest-binding-per-format',
      setup(build) {
        if (build.initialOptions.format !== 'cjs') return;
        build.onResolve({ filter: /vitest-binding\/esm\.js$/ }, (args) => ({
          path: join(args.resolveDir, args.path.replace(/esm\.js$/, 'cjs.ts')),
        }));
      },
    },
  ],
});
