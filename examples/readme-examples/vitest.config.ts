import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The examples open lmdb, classic-level and better-sqlite3: native addons, not safe in worker threads.
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-report.json' },
  },
});
