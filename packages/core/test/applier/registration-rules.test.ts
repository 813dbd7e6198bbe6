import { describe, expect, it } from 'vitest';
import { FaultyStore } from '../../src/conformance/faulty-store.js';
import { ErrorCode, hasCode, isHalt } from '../../src/errors.js';
import { MemoryRegistryStore } from '../../src/store/memory-registry-store.js';
import { W1, W1_TWIN, effectOf, regEntry, rowOf, withKeyedApplier } from '../support/applier.js';

// Registration rules that do not depend on the backend, moved here from the conformance suite
// (which keeps the rule's insert/advance/replay/halt round trip through the backend under test).

const row = (fullNodeId: bigint, first: number, last: number) => ({ fullNodeId, firstSeenEpoch: first, lastSeenEpoch: last });
const faulty = () => new FaultyStore(new MemoryRegistryStore());

describe('registration rules', () => {
  it('registration › an equal epoch is an idempotent replay and writes nothing', async () => {
    const store = faulty();
    await withKeyedApplier(store, undefined, async (a) => {
      await a.applyEntry(regEntry(1, W1, 3));
      const writes = store.calls.write;
      expect(effectOf(await a.applyEntry(regEntry(1, W1, 3)))).toBe('replayed');
      expect(store.calls.write, 'a replay must not write').toBe(writes);
    });
  });

  it('registration › a failing write halts with ERR_STORE_IO, changes nothing, and the entry applies once the store recovers', async () => {
    const store = faulty();
    await withKeyedApplier(store, undefined, async (a) => {
      await a.applyEntry(regEntry(1, W1, 1));
      store.plan = { operation: 'write', nth: store.calls.write + 1, mode: 'once' };
      const err = await a.applyEntry(regEntry(1, W1, 2)).catch((e: unknown) => e);
      expect(isHalt(err) && hasCode(err, ErrorCode.STORE_IO)).toBe(true);
      expect(await rowOf(store, 1, W1)).toEqual(row(W1, 1, 1));
      await a.applyEntry(regEntry(1, W1, 2));
    });
    expect(await rowOf(store, 1, W1)).toEqual(row(W1, 1, 2));
  });

  it('registration › a failing read halts with ERR_STORE_IO and writes nothing', async () => {
    const store = faulty();
    await withKeyedApplier(store, undefined, async (a) => {
      store.plan = { operation: 'get', nth: store.calls.get + 1, mode: 'forever' };
      const writes = store.calls.write;
      const err = await a.applyEntry(regEntry(1, W1, 1)).catch((e: unknown) => e);
      expect(isHalt(err) && hasCode(err, ErrorCode.STORE_IO)).toBe(true);
      expect(store.calls.write, 'nothing may be written after a failed read').toBe(writes);
      store.plan = undefined;
      await a.applyEntry(regEntry(1, W1, 1));
    });
    expect(await rowOf(store, 1, W1)).toEqual(row(W1, 1, 1));
  });

  it('group commit › later entries see earlier ones and all commit in one write', async () => {
    const store = faulty();
    await withKeyedApplier(store, undefined, async (a) => {
      const writes = store.calls.write;
      const results = await a.applyEntries([
        { entry: regEntry(1, W1, 1), index: 1n },
        { entry: regEntry(1, W1, 4), index: 2n },
        { entry: regEntry(1, W1, 4), index: 3n },
      ]);
      expect(results.map(effectOf)).toEqual(['inserted', 'advanced', 'replayed']);
      expect(store.calls.write - writes, 'a group commits with exactly one write').toBe(1);
    });
    expect(await rowOf(store, 1, W1)).toEqual(row(W1, 1, 4));
  });

  it('group commit › entries before a halt commit; the halted one and later ones do not; the halt names index and position', async () => {
    const store = faulty();
    await withKeyedApplier(store, undefined, async (a) => {
      const err = await a
        .applyEntries([
          { entry: regEntry(1, W1, 3), index: 11n },
          { entry: regEntry(1, W1, 5), index: 12n },
          { entry: regEntry(1, W1_TWIN, 9), index: 13n },
          { entry: regEntry(1, W1, 6), index: 14n },
        ])
        .catch((e: unknown) => e);
      expect(isHalt(err) && hasCode(err, ErrorCode.NODE_ID_COLLISION)).toBe(true);
      expect(err).toMatchObject({ index: 13n, position: 2 });
    });
    expect(await rowOf(store, 1, W1)).toEqual(row(W1, 3, 5));
  });
});
