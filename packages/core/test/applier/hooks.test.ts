import { describe, expect, it } from 'vitest';
import { W1, W2, regEntry } from '../support/applier.js';
import { Applier, ErrorCode, MemoryRegistryStore, hasCode, isHalt, registryKey, type AppliedEvent } from '../../src/index.js';

describe('appliedIndex and onApplied', () => {
  it('appliedIndex is 0n on a fresh store, rises with each applied index and never with an entry without one', async () => {
    const a = await Applier.open(new MemoryRegistryStore());
    expect(a.appliedIndex).toBe(0n);
    await a.applyEntry(regEntry(1, W1, 1), 4n);
    expect(a.appliedIndex).toBe(4n);
    await a.applyEntry(regEntry(1, W1, 2));
    expect(a.appliedIndex).toBe(4n);
    await a.applyEntry(regEntry(1, W1, 2), 9n); // a replay at a new index: a no-op, still processed
    expect(a.appliedIndex).toBe(9n);
    await a.applyEntry(regEntry(1, W1, 1), 3n); // already applied: does not lower it
    expect(a.appliedIndex).toBe(9n);
    await a.applyEntry(regEntry(1, W1, 1), 10n).catch(() => undefined); // a halt: does not raise it
    expect(a.appliedIndex).toBe(9n);
    await a.close();
  });

  it('onApplied sees every result in log order once durable, and a halt once the entries before it are committed', async () => {
    const store = new MemoryRegistryStore();
    const a = await Applier.open(store);
    const events: AppliedEvent[] = [];
    const durable: Promise<Uint8Array | undefined>[] = [];
    a.onApplied((e) => {
      events.push(e);
      // The read starts synchronously, inside the listener: the entry's row is already stored.
      if ('result' in e && e.result.kind === 'registration') {
        const r = e.result.registrations[0]!;
        durable.push(store.get(registryKey(r.dekId, r.fullNodeId)));
      }
    });
    const err = await a
      .applyEntries([
        { entry: regEntry(1, W1, 2), index: 1n },
        { entry: regEntry(1, W2, 1), index: 2n },
        { entry: regEntry(1, W1, 1), index: 3n },
        { entry: regEntry(1, W2, 2), index: 4n },
      ])
      .catch((e: unknown) => e);
    expect(isHalt(err) && err.position === 2 && err.index === 3n).toBe(true);
    await a.applyEntry(regEntry(1, W2, 2), 4n);
    expect(events.map((e) => ('halt' in e ? `halt@${e.index}` : `${e.result.kind}@${e.index}`))).toEqual([
      'registration@1',
      'registration@2',
      'halt@3',
      'registration@4',
    ]);
    const h = events[2]!;
    expect('halt' in h && hasCode(h.halt, ErrorCode.LOCAL_EPOCH_ROLLBACK)).toBe(true);
    expect((await Promise.all(durable)).map((v) => v !== undefined)).toEqual([true, true, true]);
    await a.close();
  });

  it('a listener that throws never affects applying; the returned function removes a listener', async () => {
    const a = await Applier.open(new MemoryRegistryStore());
    const seen: (bigint | undefined)[] = [];
    a.onApplied(() => {
      throw new Error('listener bug');
    });
    const off = a.onApplied((e) => seen.push(e.index));
    await expect(a.applyEntry(regEntry(1, W1, 1), 1n)).resolves.toMatchObject({ effect: 'inserted' });
    off();
    await a.applyEntry(regEntry(1, W1, 2), 2n);
    expect(seen).toEqual([1n]);
    expect(a.appliedIndex).toBe(2n);
    await a.close();
  });
});
