import { ok } from 'node:assert/strict';
import type { StoreEntry } from '../store/registry-store.js';
import type { ConformanceCase } from './conformance-case.js';
import { bytes, sameEntries, scanAll, te } from './case-fixtures.js';

const group = 'atomicity';

export const atomicityCases: ConformanceCase[] = [
  {
    group,
    name: 'a write with an invalid put rejects and makes none of its puts visible',
    async run(ctx) {
      const store = await ctx.open();
      await store.write([{ key: te('keep'), value: bytes(1) }]);
      const puts = [
        { key: te('w1'), value: bytes(1) },
        { key: te('w2'), value: bytes(2) },
        { key: te('w3'), value: 'not bytes' as unknown as Uint8Array },
        { key: te('w4'), value: bytes(4) },
      ] satisfies StoreEntry[];
      let rejected = false;
      try {
        await store.write(puts);
      } catch {
        rejected = true;
      }
      ok(rejected, 'a write with a non-Uint8Array value must reject');
      sameEntries(await scanAll(store), [{ key: te('keep'), value: bytes(1) }], 'contents after the rejected write');
    },
  },
  {
    group,
    name: 'a write with an oversized key rejects and makes none of its puts visible',
    async run(ctx) {
      const store = await ctx.open();
      let rejected = false;
      try {
        await store.write([
          { key: te('o1'), value: bytes(1) },
          { key: new Uint8Array(4096).fill(0x61), value: bytes(2) },
        ]);
      } catch {
        rejected = true;
      }
      ok(rejected, 'a 4096-byte key exceeds the 511-byte limit and must reject');
      sameEntries(await scanAll(store), [], 'contents after the rejected write');
    },
  },
  {
    group,
    name: 'a write of many puts is visible all at once',
    async run(ctx) {
      const store = await ctx.open();
      const puts = Array.from({ length: 500 }, (_, i) => ({
        key: te(`many|${String(i).padStart(4, '0')}`),
        value: bytes(i & 0xff, i >> 8),
      }));
      await store.write(puts);
      sameEntries(await scanAll(store, te('many|')), puts, 'scan after a 500-put write');
    },
  },
  {
    group,
    name: 'the last put for a key within one write wins',
    async run(ctx) {
      const store = await ctx.open();
      await store.write([
        { key: te('dup'), value: bytes(1) },
        { key: te('dup'), value: bytes(2) },
      ]);
      sameEntries(await scanAll(store, te('dup')), [{ key: te('dup'), value: bytes(2) }], 'duplicate key in one write');
    },
  },
];
