import { join, resolve, sep } from 'node:path';
import { libraryOptions } from '@keyledger/build-config';
import { defineConfig } from 'tsup';

const coreEntry = resolve('src', 'index.ts');
const conformanceDir = `${resolve('src', 'conformance')}${sep}`;

export default defineConfig({
  ...libraryOptions,
  entry: { index: 'src/index.ts', 'conformance/index': 'src/conformance/index.ts' },
  external: ['vitest'],
  // The private harness (child runner, strace helpers) ships inside the suite.
  noExternal: ['@keyledger/harness'],
  esbuildPlugins: [
    {
      // The suite reaches core only through src/index.ts, which becomes an import of the package's
      // own main entry: one copy of core per process (the user's), in the ESM and the CJS build.
      name: 'conformance-imports-core-entry',
      setup(build) {
        build.onResolve({ filter: /\/index\.js$/ }, (args) =>
          `${args.resolveDir}${sep}`.startsWith(conformanceDir) && resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts')) === coreEntry
            ? { path: '@keyledger/core', external: true }
            : undefined,
        );
      },
    },
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
