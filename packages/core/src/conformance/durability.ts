import { ok } from 'node:assert/strict';
import type { ConformanceCase } from './conformance-case.js';
import { requireDurable } from './conformance-case.js';
import { bytes, sameBytes, sameEntries, scanAll, te } from './case-fixtures.js';

const group = 'durability';

export const durabilityCases: ConformanceCase[] = [
  {
    group,
    name: 'data written before close is there after reopening',
    async run(ctx) {
      const dir = await ctx.freshDir();
      const first = await ctx.open(dir);
      requireDurable(ctx, first);
      await first.write([
        { key: te('r1'), value: bytes(1) },
        { key: bytes(0xff, 0x00), value: bytes(0, 0xff) },
      ]);
      await first.write([{ key: te('r1'), value: bytes(7) }]);
      await first.close();
      const second = await ctx.open(dir);
      sameBytes(await second.get(te('r1')), bytes(7), 'r1 after reopen');
      sameBytes(await second.get(bytes(0xff, 0x00)), bytes(0, 0xff), 'ff00 after reopen');
    },
  },
  {
    group,
    name: 'reopening twice with no writes in between changes nothing',
    async run(ctx) {
      const dir = await ctx.freshDir();
      const first = await ctx.open(dir);
      requireDurable(ctx, first);
      const rows = Array.from({ length: 50 }, (_, i) => ({ key: te(`p|${String(i).padStart(3, '0')}`), value: bytes(i) }));
      await first.write(rows);
      await first.close();
      const second = await ctx.open(dir);
      await second.close();
      const third = await ctx.open(dir);
      sameEntries(await scanAll(third, te('p|')), rows, 'rows after two reopens');
      ok(true);
    },
  },
];
