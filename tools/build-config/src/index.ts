import type { Options } from 'tsup';

/**
 * What every package's build shares: Node 20 output, a clean `dist`, and source maps (they carry
 * the sources, so no `src/` ships in a tarball).
 */
export const sharedOptions: Options = { sourcemap: true, clean: true, target: 'node20' };

/**
 * A library package's build: ESM and CommonJS with declarations for both, from `src/index.ts`.
 * Core spreads it and adds its conformance entry and plugins.
 *
 * @example
 * // packages/<adapter>/tsup.config.ts
 * export default defineConfig(libraryOptions);
 */
export const libraryOptions: Options = { ...sharedOptions, entry: { index: 'src/index.ts' }, format: ['esm', 'cjs'], dts: true };
