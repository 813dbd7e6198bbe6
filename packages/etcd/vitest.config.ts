import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // lmdb, classic-level and better-sqlite3 are native addons that are not safe in worker threads.
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    // Each file starts its own etcd cluster: one at a time keeps the shared machine responsive.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-report.json' },
  },
});
