import { describe, expect, it } from 'vitest';
import { W1, regEntry } from '../support/applier.js';
import { Applier, MemoryRegistryStore, isHalt, type ApplyResult } from '../../src/index.js';

// Type tests: this file is typechecked (`pnpm typecheck`), so each @ts-expect-error below fails
// the build the day the type stops guiding.

function describeResult(r: ApplyResult): string {
  switch (r.kind) {
    case 'registration':
      // @ts-expect-error -- a misspelt effect does not compile: effects are typed per kind
      if (r.effect === 'insertd') return 'never';
      return `${r.effect} ${r.registrations[0]?.fullNodeId}`;
    case 'bootstrap':
      // @ts-expect-error -- 'advanced' is a registration effect, not a bootstrap one
      if (r.effect === 'advanced') return 'never';
      return r.effect;
    case 'rotation':
      return r.effect;
    case 'already-applied':
      // @ts-expect-error -- an already-applied result has no effect
      return `${r.index} ${r.effect}`;
  }
}

describe('types', () => {
  it('ApplyResult narrows on kind, and isHalt narrows an unknown error to one with position and index', async () => {
    const a = await Applier.open(new MemoryRegistryStore());
    expect(describeResult(await a.applyEntry(regEntry(1, W1, 2), 1n))).toBe(`inserted ${W1}`);
    expect(describeResult(await a.applyEntry(regEntry(1, W1, 2), 1n))).toBe('1 undefined');
    const err: unknown = await a.applyEntries([{ entry: regEntry(1, W1, 1), index: 2n }]).catch((e: unknown) => e);
    if (!isHalt(err)) throw new TypeError('expected a halt');
    // No cast: the guard gives `position` and `index`.
    const where: [number | undefined, bigint | undefined] = [err.position, err.index];
    expect(where).toEqual([0, 2n]);
    await a.close();
  });
});
