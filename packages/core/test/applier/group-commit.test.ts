import { describe, expect, it } from 'vitest';
import { FaultyStore } from '../../src/conformance/faulty-store.js';
import { W1, W2, regEntry } from '../support/applier.js';
import {
  Applier,
  ErrorCode,
  MemoryRegistryStore,
  decodeRegistryRow,
  hasCode,
  isHalt,
  registryKey,
  type ApplyResult,
  type StoreEntry,
} from '../../src/index.js';

// Automatic group commit (issue 16.1): calls made while a write is in flight share the next write.
// reliability/test/group-commit.test.ts checks, property-based on memory and real adapters, that
// the outcomes are exactly those of sequential calls; these pin the shape on the memory store.

const settle = (p: Promise<unknown>): Promise<unknown> => p.catch((e: unknown) => e);

describe('automatic group commit', () => {
  it('64 calls in flight commit with a handful of writes, each resolving with its own result', async () => {
    const store = new FaultyStore(new MemoryRegistryStore());
    const a = await Applier.open(store);
    const writes = store.calls.write;
    const results = await Promise.all(
      Array.from({ length: 64 }, (_, i) => a.applyEntry(regEntry(1, (BigInt(i) << 32n) | BigInt(i), 1), BigInt(i + 1))),
    );
    expect(results.map((r) => (r as { effect: string }).effect)).toEqual(new Array(64).fill('inserted'));
    // The first call goes alone; the 63 queued behind it form the next group.
    expect(store.calls.write - writes).toBe(2);
    expect(a.appliedIndex).toBe(64n);
    await a.close();
  });

  it('over a synchronous backend an idle applier writes before applyEntry returns, with no await between call and write', async () => {
    let writes = 0;
    const store = new (class extends MemoryRegistryStore {
      protected override _write(puts: readonly StoreEntry[]): void {
        writes++;
        super._write(puts);
      }
    })();
    const a = await Applier.open(store);
    const pending = a.applyEntry(regEntry(1, W1, 1), 1n);
    expect(writes).toBe(1);
    await expect(pending).resolves.toMatchObject({ kind: 'registration', effect: 'inserted' });
    expect(a.appliedIndex).toBe(1n);
    await a.close();
  });

  it('a group sees its own puts, however many slots it knows', async () => {
    for (const slots of [3, 8, 9, 40]) {
      const store = new MemoryRegistryStore();
      const a = await Applier.open(store);
      const node = (i: number) => (BigInt(i + 1) << 32n) | BigInt(i);
      const items = [
        ...Array.from({ length: slots }, (_, i) => ({ entry: regEntry(1, node(i), 1) })),
        // The first and last slots again: advanced on top of this group's own inserts, then replayed.
        { entry: regEntry(1, node(0), 2) },
        { entry: regEntry(1, node(slots - 1), 3) },
        { entry: regEntry(1, node(0), 2) },
      ];
      const results = await a.applyEntries(items);
      expect(results.map((r) => (r as { effect: string }).effect)).toEqual([
        ...new Array(slots).fill('inserted'),
        'advanced',
        'advanced',
        'replayed',
      ]);
      // A rollback against a row this group staged halts, at its position.
      const halt = await settle(a.applyEntries([{ entry: regEntry(1, node(slots - 1), 2) }]));
      expect(isHalt(halt) && hasCode(halt, ErrorCode.LOCAL_EPOCH_ROLLBACK)).toBe(true);
      const row = async (i: number) => decodeRegistryRow((await store.get(registryKey(1, node(i))))!);
      expect(await row(0)).toMatchObject({ fullNodeId: node(0), firstSeenEpoch: 1, lastSeenEpoch: 2 });
      expect(await row(slots - 1)).toMatchObject({ fullNodeId: node(slots - 1), firstSeenEpoch: 1, lastSeenEpoch: 3 });
      await a.close();
    }
  });

  it('a halt inside a coalesced group rejects that call alone; the calls after it apply as they would have', async () => {
    const store = new FaultyStore(new MemoryRegistryStore());
    const a = await Applier.open(store);
    await a.applyEntry(regEntry(1, W1, 5), 1n);
    const calls = [
      a.applyEntry(regEntry(1, W1, 6), 2n),
      a.applyEntry(regEntry(1, W2, 1), 3n),
      a.applyEntry(regEntry(1, W1, 2), 4n), // rollback: halts
      a.applyEntries([
        { entry: regEntry(1, W2, 2), index: 5n },
        { entry: new Uint8Array([0x01]), index: 6n }, // host entry: stops this call, not a halt
      ]),
      a.applyEntry(regEntry(1, W1, 7), 7n),
    ].map(settle);
    const [r2, r3, halt4, host6, r7] = await Promise.all(calls);
    expect([r2, r3, r7].map((r) => (r as ApplyResult & { effect: string }).effect)).toEqual(['advanced', 'inserted', 'advanced']);
    expect(isHalt(halt4) && halt4.index === 4n && halt4.position === undefined).toBe(true);
    expect(hasCode(halt4, ErrorCode.LOCAL_EPOCH_ROLLBACK)).toBe(true);
    expect(hasCode(host6, ErrorCode.NOT_ENCRYPTION_ENTRY)).toBe(true);
    expect(isHalt(host6)).toBe(false);
    expect(host6).toMatchObject({ index: 6n, position: 1 });
    // The applyEntries call committed its first entry before stopping.
    expect(a.appliedIndex).toBe(7n);
    await a.close();
  });

  it('a failed coalesced write rejects the first call and retries the others, as sequential calls would', async () => {
    const store = new FaultyStore(new MemoryRegistryStore());
    const a = await Applier.open(store);
    await a.applyEntry(regEntry(1, W1, 1), 1n);
    // Whichever group the next write carries, its first call is entry 2: that call fails alone.
    store.plan = { operation: 'write', nth: store.calls.write + 1, mode: 'once' };
    const [e2, r3, r4, r5] = await Promise.all([2n, 3n, 4n, 5n].map((i) => settle(a.applyEntry(regEntry(1, W1, Number(i)), i))));
    expect(isHalt(e2) && hasCode(e2, ErrorCode.STORE_IO) && e2.index === 2n).toBe(true);
    expect([r3, r4, r5]).toMatchObject([{ effect: 'advanced' }, { effect: 'advanced' }, { effect: 'advanced' }]);
    expect(a.appliedIndex).toBe(5n);
    await a.close();
  });
});

describe('the bytes a sequential caller hands the store', () => {
  // lmdb looks up a buffer's native address once per ArrayBuffer, and V8 moves a small buffer off
  // its heap when a binding first touches it: rows and applied records carved from one pooled
  // buffer cost neither per call. A carved range is never written again, so what a store was
  // handed keeps its bytes.
  it('share one buffer across calls (rows and applied records), and are never rewritten', async () => {
    const handed: { value: Uint8Array; copy: Uint8Array }[] = [];
    class Recording extends MemoryRegistryStore {
      override write(puts: readonly { key: Uint8Array; value: Uint8Array }[]): Promise<void> {
        for (const p of puts) handed.push({ value: p.value, copy: p.value.slice() });
        return super.write(puts);
      }
    }
    const a = await Applier.open(new Recording());
    for (let i = 1; i <= 4; i++) await a.applyEntry(regEntry(1, BigInt(i), 1), BigInt(i));
    await a.applyEntry(regEntry(1, 1n, 2), 5n);
    // Each call hands over one row and one applied record.
    expect(handed.length).toBe(10);
    expect(new Set(handed.map((h) => h.value.buffer)).size).toBe(1);
    for (const h of handed) expect(h.value).toEqual(h.copy);
    await a.close();
  });
});
