import { ok, strictEqual } from 'node:assert/strict';
import { compareBytes } from '../index.js';
import { bytes, hex, sameBytes, sameEntries, scanAll, te } from './assertions.js';
import type { ConformanceCase } from './conformance-case.js';

// The store contract on a healthy store: scan order first (a store that breaks it breaks every
// later scan, and the runner stops at the first contract break), then values, copies and keys. What a store does
// after close, on a backend failure and with bad arguments is checked per operation in traits.ts.

const group = 'contract';

/** Keys that sort differently as signed bytes, as strings, or by length first. */
const orderKeys = [
  [0x70],
  [0x70, 0x00],
  [0x70, 0x00, 0x00],
  [0x70, 0x01],
  [0x70, 0x7f],
  [0x70, 0x80],
  [0x70, 0xfe, 0xff],
  [0x70, 0xff],
  [0x70, 0xff, 0x00],
  [0x70, 0xff, 0xff],
].map((k) => bytes(...k));

export const contractCases: ConformanceCase[] = [
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
    catches: 'null-for-missing, empty-array-for-missing',
    async run(ctx) {
      const store = await ctx.open();
      const v = await store.get(te('missing'));
      strictEqual(v, undefined, `expected undefined, got ${v === null ? 'null' : Object.prototype.toString.call(v)}`);
    },
  },
  {
    group,
    name: 'scan yields keys in unsigned byte order',
    catches: 'unordered-scan',
    async run(ctx) {
      const store = await ctx.open();
      // Written in a scrambled order, over two writes, so insertion order cannot pass for byte order.
      const scrambled = [...orderKeys].reverse();
      await store.write(scrambled.slice(0, 5).map((key, i) => ({ key, value: bytes(i) })));
      await store.write(scrambled.slice(5).map((key, i) => ({ key, value: bytes(i + 5) })));
      const got = (await scanAll(store, bytes(0x70))).map((e) => hex(e.key));
      strictEqual(got.join(' '), [...orderKeys].sort(compareBytes).map(hex).join(' '), 'keys must come in unsigned byte order');
    },
  },
  {
    group,
    name: 'scan yields exactly the keys that start with the prefix, with no upper bound for an all-0xFF prefix',
    catches: 'leaky-scan',
    async run(ctx) {
      const store = await ctx.open();
      const row = (key: Uint8Array, v: number) => ({ key, value: bytes(v) });
      const inA = [row(te('a|1'), 1), row(te('a|2'), 2), row(te('a||'), 7)];
      const inFF = [row(bytes(0xff, 0xff), 8), row(bytes(0xff, 0xff, 0x00), 9), row(bytes(0xff, 0xff, 0xff, 0xff), 10)];
      const others = [row(te('a'), 3), row(te('a}'), 4), row(te('`|1'), 5), row(te('b|1'), 6), row(bytes(0xff, 0xfe), 11)];
      await store.write([...others, ...inFF, ...inA]);
      sameEntries(await scanAll(store, te('a|')), inA, "scan('a|')");
      sameEntries(await scanAll(store, bytes(0xff, 0xff)), inFF, 'scan(ffff)');
      sameEntries(await scanAll(store, te('y')), [], "scan('y')");
      strictEqual((await scanAll(store)).length, inA.length + inFF.length + others.length, 'scan() yields every key');
    },
  },
  {
    group,
    name: 'written values read back byte-exact; a later write overwrites; an empty value is present',
    async run(ctx) {
      const store = await ctx.open();
      await store.write([
        { key: te('k1'), value: bytes(1, 2, 3) },
        { key: te('empty'), value: new Uint8Array(0) },
      ]);
      sameBytes(await store.get(te('k1')), bytes(1, 2, 3), 'k1');
      const empty = await store.get(te('empty'));
      ok(empty instanceof Uint8Array && empty.length === 0, 'an empty value must read back as an empty Uint8Array, not as missing');
      await store.write([{ key: te('k1'), value: bytes(2, 2) }]);
      sameBytes(await store.get(te('k1')), bytes(2, 2), 'k1 after an overwrite');
      await store.write([]);
      strictEqual((await scanAll(store)).length, 2, 'an empty write changes nothing');
    },
  },
  {
    group,
    name: 'get, getMany and scan return copies, and write copies its input',
    catches: 'shares-buffers',
    async run(ctx) {
      const store = await ctx.open();
      const key = te('kk');
      const value = bytes(5, 6, 7);
      await store.write([{ key, value }]);
      key.fill(0x41);
      value.fill(0);
      sameBytes(await store.get(te('kk')), bytes(5, 6, 7), 'value after mutating the written buffers');
      strictEqual(await store.get(te('AA')), undefined, 'the mutated key must not exist');
      (await store.get(te('kk')))!.fill(0);
      for await (const e of store.scan(te('k'))) {
        e.key.fill(0);
        e.value.fill(0);
      }
      if (ctx.options.getMany !== false) (await store.getMany!([te('kk')]))[0]!.fill(0);
      sameEntries(await scanAll(store), [{ key: te('kk'), value: bytes(5, 6, 7) }], 'contents after mutating every returned buffer');
    },
  },
  {
    group,
    name: 'keys and values with 0x00 and 0xFF bytes, 511-byte keys and 4 KiB values round-trip',
    catches: 'nul-truncated-keys',
    async run(ctx) {
      const store = await ctx.open();
      const rows = [
        { key: bytes(0x00), value: bytes(0x00, 0x00) },
        { key: bytes(0x00, 0x00, 0xff), value: bytes(0xff) },
        { key: bytes(0xff, 0xff, 0xff), value: bytes(0xff, 0xff) },
        { key: new Uint8Array(511).map((_, i) => (i * 7) & 0xff), value: new Uint8Array(4096).map((_, i) => (i * 31) & 0xff) },
      ];
      await store.write(rows);
      for (const r of rows) sameBytes(await store.get(r.key), r.value, `key ${hex(r.key)!.slice(0, 16)}`);
    },
  },
  {
    group,
    name: 'byte keys that decode to the same string stay distinct',
    catches: 'string-keys',
    async run(ctx) {
      const store = await ctx.open();
      // All three are invalid UTF-8 and decode to U+FFFD: a store keyed by decoded strings merges them.
      const keys = [bytes(0x6b, 0xff), bytes(0x6b, 0xfe), bytes(0x6b, 0xc3)];
      for (const [i, key] of keys.entries()) await store.write([{ key, value: bytes(i) }]);
      for (const [i, key] of keys.entries()) sameBytes(await store.get(key), bytes(i), `key ${hex(key)}`);
      strictEqual((await scanAll(store, bytes(0x6b))).length, 3, 'scan must see three distinct keys');
    },
  },
  {
    group,
    name: 'getMany returns values in key order with undefined for missing keys',
    needs: ['getMany'],
    catches: 'getmany-reversed',
    async run(ctx) {
      const store = await ctx.open();
      ok(typeof store.getMany === 'function', 'the options declare getMany (the default) but the store has no getMany method');
      await store.write([
        { key: te('m1'), value: bytes(1) },
        { key: te('m3'), value: bytes(3) },
      ]);
      const got = await store.getMany([te('m3'), te('m2'), te('m1')]);
      strictEqual(got.length, 3, 'one result per key');
      sameBytes(got[0], bytes(3), 'm3');
      strictEqual(got[1], undefined, 'm2 is missing and must be undefined');
      sameBytes(got[2], bytes(1), 'm1');
    },
  },
];
