import { deepStrictEqual, ok } from 'node:assert/strict';
import { traceWriteSyncs } from '@keyledger/harness';
import { bytes, sameEntries, scanAll, te } from './assertions.js';
import type { ConformanceCase } from './conformance-case.js';

const group = 'durability';
const WRITES = 20;

export const durabilityCases: ConformanceCase[] = [
  {
    group,
    name: 'data written before close is there after reopening, twice over',
    needs: ['durable'],
    catches: 'forgets-on-reopen',
    async run(ctx) {
      const first = await ctx.open();
      const rows = Array.from({ length: 50 }, (_, i) => ({ key: te(`p|${String(i).padStart(3, '0')}`), value: bytes(i) }));
      await first.write([...rows, { key: bytes(0xff, 0x00), value: bytes(0, 0xff) }]);
      await first.write([{ key: bytes(0xff, 0x00), value: bytes(7) }]);
      const third = await ctx.reopen(await ctx.reopen(first));
      sameEntries(await scanAll(third), [...rows, { key: bytes(0xff, 0x00), value: bytes(7) }], 'contents after two reopens');
    },
  },
  {
    group,
    name: 'every write makes a sync syscall before it resolves, and syncs the directory after a rename (strace)',
    needs: ['strace'],
    catches: 'buffering, no-dir-fsync',
    async run(ctx) {
      const trace = traceWriteSyncs(ctx.options.module!, await ctx.freshDir(), WRITES);
      const unsynced = trace.perWrite.flatMap((n, i) => (n === 0 ? [i] : []));
      ok(
        unsynced.length === 0,
        `${unsynced.length} of ${WRITES} writes resolved without an fsync, fdatasync, msync or sync_file_range (first: write ${unsynced[0]}): a power cut would lose them`,
      );
      deepStrictEqual(
        trace.renamesWithoutDirSync,
        [],
        `writes ${trace.renamesWithoutDirSync.join(', ')} renamed a file into place and resolved without syncing its directory: a power cut can undo the rename`,
      );
    },
  },
];
