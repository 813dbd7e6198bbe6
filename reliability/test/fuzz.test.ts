import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applierProperty, stats } from '../src/fuzz.js';

// CI's seeded short run of `pnpm fuzz` (which runs ≥ 100,000 cases).
describe('model-based fuzzing of the applier (seeded)', () => {
  it.each([
    ['memory', 1500],
    ['sqlite', 150],
    ['lmdb', 100],
  ] as const)('%s store: %i command sequences match the model of docs/design.md, "Applier"', async (adapter, numRuns) => {
    const before = stats.entries;
    await fc.assert(applierProperty(adapter), { numRuns, seed: 20240601 });
    expect(stats.entries - before).toBeGreaterThan(numRuns);
  });
});
