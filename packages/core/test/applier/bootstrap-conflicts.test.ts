import { describe, expect, it } from 'vitest';
import type { Bootstrap } from '../../src/codec/bootstrap.js';
import { encodeBootstrap } from '../../src/codec/bootstrap.js';
import { Purpose } from '../../src/codec/rotation.js';
import { FaultyStore } from '../../src/conformance/faulty-store.js';
import { ErrorCode, hasCode, isHalt } from '../../src/errors.js';
import { MemoryRegistryStore } from '../../src/store/memory-registry-store.js';
import {
  W1,
  haltsAndChangesNothing,
  newBootstrap,
  newKek,
  observe,
  rotateDekEntry,
  unchanged,
  withKeyedApplier,
  wrapNewDek,
  effectOf,
} from '../support/applier.js';

// Bootstrap rules that do not depend on the backend, moved here from the conformance suite; the
// cases bootstrap.test.ts already has (other DEK ids, other wrapped bytes, shapes) are not repeated.

describe('bootstrap conflicts', () => {
  it('bootstrap › ids swapped, or the same storage id with another raft id, halt with ERR_KEY_CONFLICT and change nothing', async () => {
    const kek = newKek();
    const store = new MemoryRegistryStore();
    const first = await newBootstrap(kek);
    await withKeyedApplier(store, kek, async (a) => {
      await a.applyEntry(encodeBootstrap(first), 3n);
      const others: [string, Bootstrap][] = [
        [
          'ids swapped',
          {
            ...first,
            storageDekId: 2,
            storageWrapped: first.raftWrapped,
            raftDekId: 1,
            raftWrapped: first.storageWrapped,
            registrations: [],
          },
        ],
        ['same storage, other raft', { ...first, raftDekId: 5, registrations: [] }],
      ];
      for (const [what, b] of others) await haltsAndChangesNothing(store, a, encodeBootstrap(b), 4n, ErrorCode.KEY_CONFLICT, what);
    });
  });

  it('bootstrap › the storage DEK wrapped again (same key, new nonce) is not an exact replay: ERR_KEY_CONFLICT', async () => {
    const kek = newKek();
    const store = new MemoryRegistryStore();
    const first = await newBootstrap(kek);
    await withKeyedApplier(store, kek, async (a) => {
      await a.applyEntry(encodeBootstrap(first), 3n);
      const rewrapped = await kek.wrap(await kek.unwrap(first.storageWrapped));
      await haltsAndChangesNothing(
        store,
        a,
        encodeBootstrap({ ...first, storageWrapped: rewrapped }),
        4n,
        ErrorCode.KEY_CONFLICT,
        're-wrap',
      );
    });
  });

  it('bootstrap › once a rotation moved an active id on, a replay of the bootstrap halts with ERR_KEY_CONFLICT and changes nothing', async () => {
    const kek = newKek();
    const store = new MemoryRegistryStore();
    const boot = encodeBootstrap(await newBootstrap(kek));
    await withKeyedApplier(store, kek, async (a) => {
      await a.applyEntry(boot, 3n);
      await a.applyEntry(rotateDekEntry(3, Purpose.STORAGE, await wrapNewDek(kek), W1, 2), 4n);
      await haltsAndChangesNothing(store, a, boot, 5n, ErrorCode.KEY_CONFLICT, 'bootstrap replayed after a storage rotation');
    });
  });

  it('bootstrap › a truncated raft DEK halts with ERR_KEK_MISMATCH, and the good bootstrap applies afterwards', async () => {
    const kek = newKek();
    const store = new MemoryRegistryStore();
    const good = await newBootstrap(kek);
    await withKeyedApplier(store, kek, async (a) => {
      const truncated = encodeBootstrap({ ...good, raftWrapped: good.raftWrapped.subarray(0, 59) });
      await haltsAndChangesNothing(store, a, truncated, 1n, ErrorCode.KEK_MISMATCH, 'a truncated raft DEK');
      expect(effectOf(await a.applyEntry(encodeBootstrap(good), 1n))).toBe('bootstrapped');
    });
  });

  it('bootstrap › a failing read halts with ERR_STORE_IO and changes nothing', async () => {
    const kek = newKek();
    const store = new FaultyStore(new MemoryRegistryStore());
    const entry = encodeBootstrap(await newBootstrap(kek));
    await withKeyedApplier(store, kek, async (a) => {
      const before = await observe(store, a);
      store.plan = { operation: 'get', nth: store.calls.get + 1, mode: 'forever' };
      const err = await a.applyEntry(entry, 1n).catch((e: unknown) => e);
      expect(isHalt(err) && hasCode(err, ErrorCode.STORE_IO)).toBe(true);
      expect(store.calls.write, 'nothing may be written after a failed read').toBe(0);
      store.plan = undefined;
      await unchanged(store, a, before, 'bootstrap over a failing read');
    });
  });
});
