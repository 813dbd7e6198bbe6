import { fail, ok } from 'node:assert/strict';
import { ErrorCode, type StoreEntry } from '../index.js';
import { bytes, rejectsWithCode, sameEntries, scanAll, te } from './assertions.js';
import type { ConformanceCase } from './conformance-case.js';

const group = 'atomicity';

const rows = (prefix: string, n: number): StoreEntry[] =>
  Array.from({ length: n }, (_, i) => ({ key: te(`${prefix}|${String(i).padStart(4, '0')}`), value: bytes(i & 0xff, i >> 8) }));

export const atomicityCases: ConformanceCase[] = [
  {
    group,
    name: 'a write of many puts is visible all at once, and the last put for a key within one write wins',
    async run(ctx) {
      const store = await ctx.open();
      const puts = rows('many', 500);
      await store.write([...puts, { key: te('dup'), value: bytes(1) }, { key: te('dup'), value: bytes(2) }]);
      sameEntries(await scanAll(store, te('many|')), puts, 'scan after a 500-put write');
      sameEntries(await scanAll(store, te('dup')), [{ key: te('dup'), value: bytes(2) }], 'duplicate key in one write');
      // Two puts is the applier's usual write (a row and the applied index): backends may take a shorter path for it.
      await store.write([
        { key: te('pair'), value: bytes(1) },
        { key: te('pair'), value: bytes(3) },
      ]);
      sameEntries(await scanAll(store, te('pair')), [{ key: te('pair'), value: bytes(3) }], 'duplicate key in a write of two');
    },
  },
  {
    group,
    name: 'a reader polling get and scan while a large write is in flight sees all of its puts or none',
    catches: 'torn-read',
    async run(ctx) {
      const store = await ctx.open();
      const puts = rows('torn', 2000);
      const probes = [0, 1, 999, 1998, 1999].map((i) => puts[i]!.key);
      let settled = false;
      const writing = store.write(puts);
      // Handled here too, so a write that rejects after a failed poll is not an unhandled rejection.
      const done = () => {
        settled = true;
      };
      writing.then(done, done);
      // Writes only add rows here, so once any put is seen every later read must see all of them:
      // "seen, then missing" is a torn write, whichever order the backend applies puts in.
      let seenAt: string | undefined;
      for (let poll = 0; !settled || poll === 0; poll++) {
        for (const [i, key] of probes.entries()) {
          const present = (await store.get(key)) !== undefined;
          if (present) seenAt ??= `get of probe ${i} in poll ${poll}`;
          else if (seenAt) fail(`poll ${poll}: probe ${i} is missing after ${seenAt} saw the same write: the write is visible in part`);
        }
        const seen = (await scanAll(store, te('torn|'))).length;
        ok(seen === 0 || seen === puts.length, `poll ${poll}: a scan saw ${seen} of the write's ${puts.length} puts`);
        if (seen > 0) seenAt ??= `the scan in poll ${poll}`;
      }
      await writing;
      sameEntries(await scanAll(store, te('torn|')), puts, 'contents once the write resolved');
    },
  },
  {
    group,
    name: 'a write whose persist fails rejects with ERR_STORE_IO and none of its puts become visible',
    needs: ['failNextWrite'],
    catches: 'visible-before-persist',
    async run(ctx) {
      const store = await ctx.open();
      const before = rows('kept', 3);
      await store.write(before);
      await ctx.options.failNextWrite!(store);
      await rejectsWithCode(store.write(rows('lost', 3)), ErrorCode.STORE_IO, 'the write whose persist failed');
      sameEntries(await scanAll(store), before, 'contents after the failed write (in this process)');
      if (ctx.options.durable === false) return;
      sameEntries(await scanAll(await ctx.reopen(store)), before, 'contents after the failed write (reopened)');
    },
  },
];
