import { ok, strictEqual } from 'node:assert/strict';
import type { ConformanceCase } from './conformance-case.js';
import { bytes, sameBytes, sameEntries, scanAll, te } from './case-fixtures.js';

const group = 'basics';

export const basicsCases: ConformanceCase[] = [
  {
    group,
    name: 'kind is a non-empty string',
    async run(ctx) {
      const store = await ctx.open();
      ok(typeof store.kind === 'string' && store.kind.length > 0, `kind must be a non-empty string, got ${String(store.kind)}`);
    },
  },
  {
    group,
    name: 'get of a missing key resolves to undefined (not null, not an empty array)',
    async run(ctx) {
      const store = await ctx.open();
      const v = await store.get(te('missing'));
      strictEqual(v, undefined, `expected undefined, got ${v === null ? 'null' : Object.prototype.toString.call(v)}`);
    },
  },
  {
    group,
    name: 'a written value reads back byte-exact',
    async run(ctx) {
      const store = await ctx.open();
      await store.write([{ key: te('k1'), value: bytes(1, 2, 3) }]);
      sameBytes(await store.get(te('k1')), bytes(1, 2, 3), 'k1');
    },
  },
  {
    group,
    name: 'an empty value is present and distinct from a missing key',
    async run(ctx) {
      const store = await ctx.open();
      await store.write([{ key: te('empty'), value: new Uint8Array(0) }]);
      const v = await store.get(te('empty'));
      ok(v instanceof Uint8Array, 'an empty value must read back as an empty Uint8Array, not as missing');
      strictEqual(v.length, 0);
    },
  },
  {
    group,
    name: 'a later write overwrites the value',
    async run(ctx) {
      const store = await ctx.open();
      await store.write([{ key: te('k'), value: bytes(1) }]);
      await store.write([{ key: te('k'), value: bytes(2, 2) }]);
      sameBytes(await store.get(te('k')), bytes(2, 2), 'k');
    },
  },
  {
    group,
    name: 'get returns a copy the caller may mutate',
    async run(ctx) {
      const store = await ctx.open();
      await store.write([{ key: te('k'), value: bytes(9, 9, 9) }]);
      const first = await store.get(te('k'));
      ok(first, 'value missing');
      first.fill(0);
      sameBytes(await store.get(te('k')), bytes(9, 9, 9), 'value after mutating a returned copy');
    },
  },
  {
    group,
    name: 'write copies its input: mutating a key or value afterwards changes nothing',
    async run(ctx) {
      const store = await ctx.open();
      const key = te('kk');
      const value = bytes(5, 6, 7);
      await store.write([{ key, value }]);
      key.fill(0x41);
      value.fill(0);
      sameBytes(await store.get(te('kk')), bytes(5, 6, 7), 'value after mutating the written buffers');
      strictEqual(await store.get(te('AA')), undefined, 'the mutated key must not exist');
    },
  },
  {
    group,
    name: 'scan yields copies the caller may mutate',
    async run(ctx) {
      const store = await ctx.open();
      await store.write([{ key: te('s1'), value: bytes(4, 4) }]);
      for await (const e of store.scan(te('s'))) {
        e.key.fill(0);
        e.value.fill(0);
      }
      sameEntries(await scanAll(store, te('s')), [{ key: te('s1'), value: bytes(4, 4) }], 'scan after mutating yielded buffers');
    },
  },
  {
    group,
    name: 'an empty write is allowed and changes nothing',
    async run(ctx) {
      const store = await ctx.open();
      await store.write([{ key: te('a'), value: bytes(1) }]);
      await store.write([]);
      sameEntries(await scanAll(store), [{ key: te('a'), value: bytes(1) }], 'contents after an empty write');
    },
  },
  {
    group,
    name: 'keys and values with 0x00 and 0xFF bytes round-trip',
    async run(ctx) {
      const store = await ctx.open();
      const rows = [
        { key: bytes(0x00), value: bytes(0x00, 0x00) },
        { key: bytes(0x00, 0x00, 0xff), value: bytes(0xff) },
        { key: bytes(0xff, 0x00), value: bytes(0x00, 0xff, 0x00) },
        { key: bytes(0xff, 0xff, 0xff), value: bytes(0xff, 0xff) },
      ];
      await store.write(rows);
      for (const r of rows) sameBytes(await store.get(r.key), r.value, `key ${Buffer.from(r.key).toString('hex')}`);
    },
  },
  {
    group,
    name: 'byte keys that decode to the same string stay distinct',
    async run(ctx) {
      const store = await ctx.open();
      // Both are invalid UTF-8 and decode to U+FFFD: a store keyed by decoded strings merges them.
      const a = bytes(0x6b, 0xff);
      const b = bytes(0x6b, 0xfe);
      const c = bytes(0x6b, 0xc3);
      await store.write([{ key: a, value: bytes(1) }]);
      await store.write([{ key: b, value: bytes(2) }]);
      await store.write([{ key: c, value: bytes(3) }]);
      sameBytes(await store.get(a), bytes(1), 'key 6bff');
      sameBytes(await store.get(b), bytes(2), 'key 6bfe');
      sameBytes(await store.get(c), bytes(3), 'key 6bc3');
      strictEqual((await scanAll(store, bytes(0x6b))).length, 3, 'scan must see three distinct keys');
    },
  },
  {
    group,
    name: 'a 511-byte key is accepted',
    async run(ctx) {
      const store = await ctx.open();
      const key = new Uint8Array(511).map((_, i) => (i * 7) & 0xff);
      await store.write([{ key, value: bytes(1) }]);
      sameBytes(await store.get(key), bytes(1), '511-byte key');
    },
  },
  {
    group,
    name: 'a 4 KiB value round-trips',
    async run(ctx) {
      const store = await ctx.open();
      const value = new Uint8Array(4096).map((_, i) => (i * 31) & 0xff);
      await store.write([{ key: te('big'), value }]);
      sameBytes(await store.get(te('big')), value, '4 KiB value');
    },
  },
  {
    group,
    name: 'getMany, when offered, returns values in key order with undefined for missing keys',
    async run(ctx) {
      const store = await ctx.open();
      if (!store.getMany) ctx.skip('the store does not offer getMany; the applier falls back to get');
      await store.write([
        { key: te('m1'), value: bytes(1) },
        { key: te('m3'), value: bytes(3) },
      ]);
      const got = await store.getMany!([te('m3'), te('m2'), te('m1')]);
      strictEqual(got.length, 3, 'one result per key');
      sameBytes(got[0], bytes(3), 'm3');
      strictEqual(got[1], undefined, 'm2 is missing and must be undefined');
      sameBytes(got[2], bytes(1), 'm1');
      got[0]!.fill(0);
      sameBytes(await store.get(te('m3')), bytes(3), 'getMany must return copies');
    },
  },
];
