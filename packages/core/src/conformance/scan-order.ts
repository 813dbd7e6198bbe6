import { ok } from 'node:assert/strict';
import { compareBytes } from '../bytes.js';
import type { ConformanceCase } from './conformance-case.js';
import { bytes, sameEntries, scanAll, te } from './case-fixtures.js';

const group = 'scan-order';

const keys = [
  bytes(0x70),
  bytes(0x70, 0x00),
  bytes(0x70, 0x00, 0x00),
  bytes(0x70, 0x01),
  bytes(0x70, 0x7f),
  bytes(0x70, 0x80),
  bytes(0x70, 0xfe, 0xff),
  bytes(0x70, 0xff),
  bytes(0x70, 0xff, 0x00),
  bytes(0x70, 0xff, 0xff),
];

export const scanOrderCases: ConformanceCase[] = [
  {
    group,
    name: 'scan yields keys in unsigned byte order',
    async run(ctx) {
      const store = await ctx.open();
      // Written in a scrambled order, several writes, so insertion order cannot pass for byte order.
      const scrambled = [...keys].reverse();
      await store.write(scrambled.slice(0, 5).map((key, i) => ({ key, value: bytes(i) })));
      await store.write(scrambled.slice(5).map((key, i) => ({ key, value: bytes(i + 5) })));
      const got = (await scanAll(store, bytes(0x70))).map((e) => e.key);
      const want = [...keys].sort(compareBytes);
      ok(got.length === want.length, `expected ${want.length} keys, got ${got.length}`);
      for (const [i, k] of got.entries()) {
        ok(
          compareBytes(k, want[i]!) === 0,
          `position ${i}: got ${Buffer.from(k).toString('hex')}, want ${Buffer.from(want[i]!).toString('hex')}`,
        );
      }
    },
  },
  {
    group,
    name: 'scan yields only keys that start with the prefix',
    async run(ctx) {
      const store = await ctx.open();
      await store.write([
        { key: te('a|1'), value: bytes(1) },
        { key: te('a|2'), value: bytes(2) },
        { key: te('a'), value: bytes(3) },
        { key: te('a}'), value: bytes(4) },
        { key: te('`|1'), value: bytes(5) },
        { key: te('b|1'), value: bytes(6) },
        { key: te('a||'), value: bytes(7) },
      ]);
      sameEntries(
        await scanAll(store, te('a|')),
        [
          { key: te('a|1'), value: bytes(1) },
          { key: te('a|2'), value: bytes(2) },
          { key: te('a||'), value: bytes(7) },
        ],
        "scan('a|')",
      );
    },
  },
  {
    group,
    name: 'scan of an all-0xFF prefix has no upper bound and still stops at the prefix',
    async run(ctx) {
      const store = await ctx.open();
      await store.write([
        { key: bytes(0xff, 0xff), value: bytes(1) },
        { key: bytes(0xff, 0xff, 0x00), value: bytes(2) },
        { key: bytes(0xff, 0xff, 0xff, 0xff), value: bytes(3) },
        { key: bytes(0xff, 0xfe), value: bytes(4) },
      ]);
      sameEntries(
        await scanAll(store, bytes(0xff, 0xff)),
        [
          { key: bytes(0xff, 0xff), value: bytes(1) },
          { key: bytes(0xff, 0xff, 0x00), value: bytes(2) },
          { key: bytes(0xff, 0xff, 0xff, 0xff), value: bytes(3) },
        ],
        'scan(ffff)',
      );
    },
  },
  {
    group,
    name: 'scan of an empty prefix yields every key in order',
    async run(ctx) {
      const store = await ctx.open();
      await store.write([
        { key: bytes(0xff), value: bytes(1) },
        { key: bytes(0x00), value: bytes(2) },
        { key: te('m'), value: bytes(3) },
      ]);
      sameEntries(
        await scanAll(store),
        [
          { key: bytes(0x00), value: bytes(2) },
          { key: te('m'), value: bytes(3) },
          { key: bytes(0xff), value: bytes(1) },
        ],
        'scan()',
      );
    },
  },
  {
    group,
    name: 'scan with no matching keys yields nothing',
    async run(ctx) {
      const store = await ctx.open();
      await store.write([{ key: te('x'), value: bytes(1) }]);
      sameEntries(await scanAll(store, te('y')), [], "scan('y')");
    },
  },
];
