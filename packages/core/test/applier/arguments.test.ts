import { describe, expect, it } from 'vitest';
import { FaultyStore } from '../../src/conformance/faulty-store.js';
import { FIXED_NOW, W1, newBootstrap, newKek, observe, regEntry, unchanged } from '../support/applier.js';
import {
  Applier,
  ErrorCode,
  MemoryRegistryStore,
  encodeBootstrap,
  hasCode,
  isHalt,
  isKeyledgerError,
  reasonCode,
  type ApplierOptions,
  type IndexedEntry,
} from '../../src/index.js';

// Issue 11.10: every bad argument is a KeyledgerError with an argument code, checked before
// anything is written; a misbehaving KEK or clock is a halt with a clear code, never a TypeError.

async function setup(options: ApplierOptions = {}) {
  const store = new FaultyStore(new MemoryRegistryStore());
  const applier = await Applier.open(store, options);
  await applier.applyEntry(regEntry(1, W1, 1), 1n);
  return { store, applier, before: await observe(store, applier), writes: store.calls.write };
}

function expectInvalid(err: unknown, position?: number): void {
  expect(isKeyledgerError(err), String(err)).toBe(true);
  expect(hasCode(err, ErrorCode.INVALID_ARGUMENT)).toBe(true);
  expect(isHalt(err)).toBe(false);
  expect((err as { position?: number }).position).toBe(position);
}

describe('argument checks', () => {
  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['a string', 'entries'],
  ])('applyEntries(%s) rejects (not throws) with ERR_INVALID_ARGUMENT and writes nothing', async (_, arg) => {
    const { store, applier, before, writes } = await setup();
    let promise: Promise<unknown> | undefined;
    expect(() => {
      promise = applier.applyEntries(arg as never);
    }).not.toThrow();
    expectInvalid(await promise!.catch((e: unknown) => e));
    expect(store.calls.write).toBe(writes);
    await unchanged(store, applier, before, 'after the bad call');
  });

  it.each([
    ['null', null],
    ['a number', 7],
    ['an object without entry', { index: 2n }],
    ['a plain array as entry', { entry: [3, 1], index: 2n }],
    ['a string as entry', { entry: 'abc', index: 2n }],
    ['a JS number index', { entry: regEntry(1, W1, 9), index: 2 }],
    ['a negative index', { entry: regEntry(1, W1, 9), index: -1n }],
    ['an index of 2^64', { entry: regEntry(1, W1, 9), index: 1n << 64n }],
  ])(
    "applyEntries([reg, boot, %s]) commits reg and boot, then rejects with the bad item's position (as a halt there would)",
    async (_, bad) => {
      const kek = newKek();
      const { store, applier, writes } = await setup({ kek, now: () => FIXED_NOW });
      const items = [
        { entry: regEntry(1, W1, 2), index: 2n },
        { entry: encodeBootstrap(await newBootstrap(kek, { registrations: [] })), index: 3n },
        bad,
      ] as IndexedEntry[];
      expectInvalid(await applier.applyEntries(items).catch((e: unknown) => e), 2);
      // One durable write for the two good entries, nothing for the bad one.
      expect(store.calls.write).toBe(writes + 1);
      expect(applier.appliedIndex).toBe(3n);
      expect(applier.state.active.storage).not.toBe(0);
      // Both are durable: re-delivered, they are recognised as applied.
      await expect(applier.applyEntries(items.slice(0, 2))).resolves.toEqual([
        { kind: 'already-applied', index: 2n },
        { kind: 'already-applied', index: 3n },
      ]);
    },
  );

  it('applyEntries([bad, reg]) commits nothing: the bad item is first', async () => {
    const { store, applier, before, writes } = await setup();
    const items = [
      { entry: 'abc', index: 2n },
      { entry: regEntry(1, W1, 2), index: 3n },
    ] as unknown as IndexedEntry[];
    expectInvalid(await applier.applyEntries(items).catch((e: unknown) => e), 0);
    expect(store.calls.write).toBe(writes);
    await unchanged(store, applier, before, 'after the bad list');
  });

  it.each([
    ['a plain array', [3, 1, 0, 0, 0, 1], 2n],
    ['null', null, 2n],
    ['a JS number index', regEntry(1, W1, 2), 2],
    ['a negative index', regEntry(1, W1, 2), -5n],
    ['an index of 2^64', regEntry(1, W1, 2), 1n << 64n],
    ['a string index', regEntry(1, W1, 2), '2'],
  ])('applyEntry with %s rejects with ERR_INVALID_ARGUMENT and writes nothing', async (_, entry, index) => {
    const { store, applier, before, writes } = await setup();
    expectInvalid(await applier.applyEntry(entry as never, index as never).catch((e: unknown) => e));
    expect(store.calls.write).toBe(writes);
    await unchanged(store, applier, before, 'after the bad call');
  });

  it('the largest u64 index is accepted', async () => {
    const { applier } = await setup();
    await expect(applier.applyEntry(regEntry(1, W1, 2), (1n << 64n) - 1n)).resolves.toMatchObject({ effect: 'advanced' });
  });

  it.each([
    ['resolves to null', async () => null],
    ['resolves to a string', async () => 'key'],
    ['resolves to a plain array', async () => new Array(32).fill(1)],
  ])('a KEK whose unwrap %s halts with ERR_HOST_CALLBACK, changes nothing', async (_, unwrap) => {
    const kek = newKek();
    const boot = encodeBootstrap(await newBootstrap(kek));
    const { store, applier, before } = await setup({ kek: { unwrap: unwrap as never }, now: () => FIXED_NOW });
    const err = await applier.applyEntry(boot, 5n).catch((e: unknown) => e);
    expect(isHalt(err)).toBe(true);
    expect(reasonCode(err)).toBe(ErrorCode.HOST_CALLBACK);
    await unchanged(store, applier, before, 'after the bad KEK');
  });

  it.each([
    [
      'throws',
      () => {
        throw new TypeError('clock broke');
      },
    ],
    ['returns an invalid Date', () => new Date(Number.NaN)],
    ['returns a number', () => 0 as unknown as Date],
  ])('a clock that %s halts with ERR_HOST_CALLBACK (never a raw TypeError), changes nothing', async (_, now) => {
    const kek = newKek();
    const { store, applier, before } = await setup({ kek, now });
    const err = await applier.applyEntry(encodeBootstrap(await newBootstrap(kek)), 5n).catch((e: unknown) => e);
    expect(isHalt(err)).toBe(true);
    expect(reasonCode(err)).toBe(ErrorCode.HOST_CALLBACK);
    expect(applier.keyIds()).toEqual([]);
    await unchanged(store, applier, before, 'after the bad clock');
  });
});

describe('call order and close', () => {
  it('an applyEntry called before close() runs, and close waits for it', async () => {
    const store = new MemoryRegistryStore();
    const applier = await Applier.open(store);
    const applied = applier.applyEntry(regEntry(1, W1, 1), 1n);
    const closed = applier.close();
    await expect(applied).resolves.toMatchObject({ effect: 'inserted' });
    await closed;
    const reopened = await Applier.open(store);
    expect(reopened.appliedIndex).toBe(1n);
    await reopened.close();
  });

  it('close waits for every queued call, in call order', async () => {
    const applier = await Applier.open(new MemoryRegistryStore());
    const order: number[] = [];
    const calls = [1, 2, 3, 4].map((e) => applier.applyEntry(regEntry(1, W1, e), BigInt(e)).then(() => order.push(e)));
    await applier.close();
    expect(order).toEqual([1, 2, 3, 4]);
    await Promise.all(calls);
  });

  it('after close: applyEntry and applyEntries reject with ERR_APPLIER_CLOSED (not a halt) and the store is free again', async () => {
    const store = new MemoryRegistryStore();
    const applier = await Applier.open(store);
    await applier.close();
    for (const call of [() => applier.applyEntry(regEntry(1, W1, 1), 1n), () => applier.applyEntries([{ entry: regEntry(1, W1, 1) }])]) {
      const err = await call().catch((e: unknown) => e);
      expect(hasCode(err, ErrorCode.APPLIER_CLOSED)).toBe(true);
      expect(isHalt(err)).toBe(false);
    }
    await expect(applier.close()).resolves.toBeUndefined();
    const next = await Applier.open(store);
    let rows = 0;
    for await (const _ of store.scan(new Uint8Array([0x21]))) rows++;
    expect(rows).toBe(0);
    await next.close();
  });
});
