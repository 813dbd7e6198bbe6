import { ok } from 'node:assert/strict';
import type { ConformanceCase } from './conformance-case.js';
import { requireDurable } from './conformance-case.js';
import { bytes, sameBytes, sameEntries, scanAll, te } from './case-fixtures.js';
import { findStrace, traceWriteSyncs } from './sync-trace.js';

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
  {
    group,
    name: 'every write makes a sync syscall before it resolves (strace)',
    async run(ctx) {
      const module = ctx.options.module;
      if (!module) return ctx.skip('no module option: the store is traced in a child process that opens it from the module');
      if (!findStrace()) ctx.skip('strace is not on PATH (apt-get install strace)');
      const writes = 20;
      const trace = traceWriteSyncs(module, await ctx.freshDir(), writes);
      const unsynced = trace.perWrite.flatMap((n, i) => (n === 0 ? [i] : []));
      ok(
        unsynced.length === 0,
        `${unsynced.length} of ${writes} writes resolved without an fsync, fdatasync, msync or sync_file_range (first: write ${unsynced[0]}): a power cut would lose them`,
      );
    },
  },
];
