#!/usr/bin/env node
// Per-entry durable apply of this checkout against another revision's, in one run, interleaved,
// with the raw library and two store-level probes beside them, so that a change in the ratio can be
// split between the store layer, the applied-index record and the applier:
//
//   git worktree add --detach /tmp/keyledger-old <rev>
//   (cd /tmp/keyledger-old && pnpm install && pnpm build)
//   node --expose-gc src/compare-revision.mjs /tmp/keyledger-old [--backends lmdb,level,sqlite] [--rounds 9] [--grouped [--group-size N]]
//
// Scenarios (each one registration inserted, then advanced, per durable commit; with --grouped,
// --group-size registrations (1,000 unless given) inserted, then advanced, per durable commit, reads by getMany):
// - raw:          the raw library's read-modify-write (backends.mjs)
// - store:        this checkout's store: `get`, then `write` of the row alone
// - store+index:  the same write with the 8-byte applied-index record beside the row, as the applier writes it
// - applier:      this checkout's `applyEntry(entry, index)`
// - other:        the other revision's `applyEntry(entry, index)` on its own adapter
// Figures are µs per op (medians over rounds) and the ratio to raw in the same round set.
import Database from 'better-sqlite3';
import { APPLIED_KEY, Applier, encodeAppliedIndex } from '@keyledger/core';
import { Level } from 'level';
import { open as openLmdb } from 'lmdb';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BACKENDS, KEYLEDGER, RAW } from './backends.mjs';
import { interleaved } from './scenarios.mjs';
import { freshDir } from './tmpdir.mjs';
import { SlotAllocator, prepareRound } from './workload.mjs';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    backends: { type: 'string', default: BACKENDS.join(',') },
    rounds: { type: 'string', default: '9' },
    grouped: { type: 'boolean', default: false },
    'group-size': { type: 'string', default: '1000' },
  },
});
if (positionals.length !== 1) throw new Error('usage: compare-revision.mjs <checkout of the other revision, built>');
const other = resolve(positionals[0]);
const load = (pkg) => import(join(other, 'packages', pkg, 'dist', 'index.js'));
const [otherCore, otherLmdb, otherLevel, otherSqlite] = await Promise.all(['core', 'lmdb', 'level', 'sqlite'].map(load));

/** The other revision's adapter over a handle opened as backends.mjs opens this checkout's. */
const OTHER = {
  lmdb: async (dir) => new otherLmdb.LmdbRegistryStore(openLmdb(join(dir, 'lmdb'), {}), { closeHandle: true }),
  async level(dir) {
    const db = new Level(join(dir, 'level'));
    await db.open();
    return new otherLevel.LevelRegistryStore(db, { closeHandle: true });
  },
  sqlite: async (dir) => new otherSqlite.SqliteRegistryStore(new Database(join(dir, 'keyledger.sqlite')), { closeHandle: true }),
};

const GROUP_SIZE = Number(args['group-size']);
if (!Number.isInteger(GROUP_SIZE) || GROUP_SIZE < 1) throw new Error('--group-size takes a positive integer');
const SLOTS_PER_CHUNK = args.grouped ? GROUP_SIZE : 25;
let raftIndex = 0n;

/**
 * A scenario over fresh slots. Per entry, `op(key, row, entry)` is one durable read-modify-write;
 * with --grouped, `op(keys, rows, entries)` is one for the whole chunk's phase.
 */
function scenario(op) {
  const slots = new SlotAllocator();
  return {
    prepare: () => prepareRound(slots.take(SLOTS_PER_CHUNK)),
    async run(round) {
      for (let phase = 0; phase < 2; phase++) {
        const [rows, entries] = [round.rows[phase], round.entries[phase]];
        if (args.grouped) await op(round.keys, rows, entries);
        else for (let i = 0; i < round.keys.length; i++) await op(round.keys[i], rows[i], entries[i]);
      }
      return round.ops;
    },
  };
}

/** The store scenario: read the keys, then write the rows (and the applied-index record) in one write. */
async function storeReadWrite(store, keys, rows, withIndex) {
  const many = Array.isArray(keys);
  await (many ? store.getMany(keys) : store.get(keys));
  const puts = many ? keys.map((key, i) => ({ key, value: rows[i] })) : [{ key: keys, value: rows }];
  if (withIndex) puts.push({ key: APPLIED_KEY, value: applied() });
  await store.write(puts);
}

/** `applier`'s apply of one entry, or of a chunk's entries as one group. */
function apply(applier, entries) {
  if (!Array.isArray(entries)) return applier.applyEntry(entries, ++raftIndex);
  return applier.applyEntries(entries.map((entry) => ({ entry, index: ++raftIndex })));
}

const applied = () => encodeAppliedIndex(++raftIndex);

for (const backend of args.backends.split(',')) {
  const raw = await RAW[backend](freshDir(`${backend}-raw`));
  const plain = (await KEYLEDGER[backend](freshDir(`${backend}-store`))).store;
  const indexed = (await KEYLEDGER[backend](freshDir(`${backend}-indexed`))).store;
  const applier = await Applier.open((await KEYLEDGER[backend](freshDir(`${backend}-applier`))).store);
  const otherApplier = await otherCore.Applier.open(await OTHER[backend](freshDir(`${backend}-other`)));
  const figures = await interleaved(
    {
      raw: scenario((key, row) => (args.grouped ? raw.group(key, row) : raw.perOp(key, row))),
      store: scenario((key, row) => storeReadWrite(plain, key, row, false)),
      'store+index': scenario((key, row) => storeReadWrite(indexed, key, row, true)),
      applier: scenario((_key, _row, entry) => apply(applier, entry)),
      other: scenario((_key, _row, entry) => apply(otherApplier, entry)),
    },
    Number(args.rounds),
    6,
  );
  const base = figures.raw.median;
  const row = Object.entries(figures).map(([name, f]) => `${name} ${(1e6 / f.median).toFixed(2)} µs/op (${(f.median / base).toFixed(2)})`);
  console.log(`${backend}${args.grouped ? ` (groups of ${GROUP_SIZE.toLocaleString('en')})` : ''}: ${row.join(' · ')}`);
}
// The stores stay open: this is a measuring script, and the run's temporary root goes on exit.
process.exit(0);
