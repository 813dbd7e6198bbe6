// The throughput and open-time scenarios of one backend, run in this process.
import { Applier, FileKek, encodeBootstrap } from '@keyledger/core';
import { randomBytes } from 'node:crypto';
import { KEYLEDGER, RAW } from './backends.mjs';
import { figure, gc, rate } from './stats.mjs';
import { dropDir, freshDir } from './tmpdir.mjs';
import { SlotAllocator, keyOf, prefillSlot, prepareRound, rowOf } from './workload.mjs';

const PREFILL_BATCH = 50_000;

/** Writes `rows` registry rows straight through the store, in big batches (not through the applier). */
async function prefill(store, rows) {
  for (let start = 0; start < rows; start += PREFILL_BATCH) {
    const n = Math.min(PREFILL_BATCH, rows - start);
    const puts = new Array(n);
    for (let i = 0; i < n; i++) {
      const slot = prefillSlot(start + i);
      puts[i] = { key: keyOf(slot), value: rowOf(slot, 1, 1) };
    }
    await store.write(puts);
  }
}

function expectEffects(results, want, what) {
  for (const r of results) {
    if (r.effect !== want) throw new Error(`${what}: expected every registration to be '${want}', got '${r.effect}'`);
  }
}

let raftIndex = 0n;

/** Runners: each takes a prepared round and performs its 2 × slots read-modify-writes. */
const run = {
  rawPerOp: (raw) => async (round) => {
    for (const rows of round.rows) for (let i = 0; i < round.keys.length; i++) await raw.perOp(round.keys[i], rows[i]);
  },
  rawGrouped: (raw, groupSize) => async (round) => {
    for (const rows of round.rows) {
      for (let s = 0; s < round.keys.length; s += groupSize) await raw.group(round.keys.slice(s, s + groupSize), rows.slice(s, s + groupSize));
    }
  },
  perEntry: (applier) => async (round) => {
    const effects = ['inserted', 'advanced'];
    for (let phase = 0; phase < 2; phase++) {
      const entries = round.entries[phase];
      const want = effects[phase];
      for (let i = 0; i < entries.length; i++) {
        const r = await applier.applyEntry(entries[i], ++raftIndex);
        if (r.effect !== want) throw new Error(`applyEntry: expected '${want}', got '${r.effect}'`);
      }
    }
  },
  grouped: (applier, groupSize) => async (round) => {
    const effects = ['inserted', 'advanced'];
    for (let phase = 0; phase < 2; phase++) {
      const items = round.entries[phase].map((entry) => ({ entry, index: ++raftIndex }));
      for (let s = 0; s < items.length; s += groupSize) {
        expectEffects(await applier.applyEntries(items.slice(s, s + groupSize)), effects[phase], 'applyEntries');
      }
    }
  },
};

/**
 * Runs `rounds` rounds (after one unrecorded warm-up) of every scenario in `scenarios`,
 * interleaved and in a rotating order, so that a noisy neighbour slows every scenario alike
 * rather than one of them. Each scenario draws fresh slots from its own allocator, so the raw
 * baseline and keyledger work on identical key sequences. `scenarios` maps a figure's name to
 * `[runner, allocator]`; the allocator belongs to the scenario's store.
 */
async function interleaved(scenarios, rounds, slotsPerRound) {
  const names = Object.keys(scenarios);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = -1; r < rounds; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + Math.max(r, 0)) % names.length];
      const [runner, alloc] = scenarios[name];
      const round = prepareRound(alloc.take(slotsPerRound));
      gc();
      const opsPerSec = await rate(round.ops, () => runner(round));
      if (r >= 0) samples[name].push(opsPerSec);
    }
  }
  return Object.fromEntries(names.map((n) => [n, figure(samples[n], 'ops/s')]));
}

async function bootstrap(applier) {
  const kekBytes = randomBytes(32);
  const kek = FileKek.fromBytes(kekBytes, 'bench');
  const entry = encodeBootstrap({
    storageDekId: 0xfff0,
    storageWrapped: await kek.wrap(randomBytes(32)),
    raftDekId: 0xfff1,
    raftWrapped: await kek.wrap(randomBytes(32)),
    registrations: [],
  });
  return { kekBytes, entry };
}

/** Time of one `Applier.open` (state load + keystore rebuild with the KEK) on an open store. */
async function timeOpen(store, kek) {
  gc();
  const t0 = performance.now();
  const applier = await Applier.open(store, { kek });
  const ms = performance.now() - t0;
  if (applier.keyIds().length !== 2) throw new Error('open: the keystore was not rebuilt');
  await applier.close();
  return ms;
}

/** Time of opening the store and an applier on it, from a closed store. */
async function coldOpen(backend, dir, kek) {
  gc();
  const t0 = performance.now();
  const { store } = await KEYLEDGER[backend](dir);
  const applier = await Applier.open(store, { kek });
  const ms = performance.now() - t0;
  await applier.close();
  await store.close();
  return ms;
}

/**
 * Every in-process figure of one backend. `log` reports progress. Returns figures keyed by the
 * names BENCHMARKS.md explains.
 */
export async function benchBackend(backend, cfg, log) {
  const rawDir = freshDir(`${backend}-raw`);
  const emptyDir = freshDir(`${backend}-empty`);
  const fullDir = freshDir(`${backend}-full`);
  const smallDir = freshDir(`${backend}-small`);
  const raw = await RAW[backend](rawDir);
  const empty = await KEYLEDGER[backend](emptyDir);
  let full = await KEYLEDGER[backend](fullDir);
  const out = {};
  try {
    log(`${backend}: pre-filling ${cfg.prefillRows.toLocaleString('en')} rows`);
    const t0 = performance.now();
    await prefill(full.store, cfg.prefillRows);
    await full.settle();
    out.prefillSeconds = (performance.now() - t0) / 1000;
    const emptyApplier = await Applier.open(empty.store);
    const [rawSlots, emptySlots, fullSlots] = [new SlotAllocator(), new SlotAllocator(), new SlotAllocator()];
    const fullApplier = await Applier.open(full.store);

    log(`${backend}: one op per commit, ${cfg.rounds} rounds × ${2 * cfg.perOpSlots} ops`);
    Object.assign(
      out,
      await interleaved(
        {
          rawPerOp: [run.rawPerOp(raw), rawSlots],
          perEntry: [run.perEntry(emptyApplier), emptySlots],
          perEntryFull: [run.perEntry(fullApplier), fullSlots],
        },
        cfg.rounds,
        cfg.perOpSlots,
      ),
    );
    log(`${backend}: groups of ${cfg.groupSize}, ${cfg.rounds} rounds × ${2 * cfg.groupedSlots} ops`);
    Object.assign(
      out,
      await interleaved(
        {
          rawGrouped: [run.rawGrouped(raw, cfg.groupSize), rawSlots],
          grouped: [run.grouped(emptyApplier, cfg.groupSize), emptySlots],
          groupedFull: [run.grouped(fullApplier, cfg.groupSize), fullSlots],
        },
        cfg.rounds,
        cfg.groupedSlots,
      ),
    );
    await emptyApplier.close();
    await fullApplier.close();

    log(`${backend}: open times`);
    // The small store: 10 rows and a bootstrapped state; the big one gets the same state.
    const small = await KEYLEDGER[backend](smallDir);
    await prefill(small.store, 10);
    const { kekBytes, entry } = await bootstrap();
    for (const s of [small.store, full.store]) {
      const a = await Applier.open(s, { kek: FileKek.fromBytes(kekBytes, 'bench') });
      await a.applyEntry(entry, ++raftIndex);
      await a.close();
    }
    const kek = FileKek.fromBytes(kekBytes, 'bench');
    const openSmall = [];
    const openFull = [];
    // One unrecorded warm-up each, then alternating.
    await timeOpen(small.store, kek);
    await timeOpen(full.store, kek);
    for (let r = 0; r < cfg.openRounds; r++) {
      openSmall.push(await timeOpen(small.store, kek));
      openFull.push(await timeOpen(full.store, kek));
    }
    out.openSmall = figure(openSmall, 'ms');
    out.openFull = figure(openFull, 'ms');
    await small.store.close();
    await full.store.close();
    full = undefined;
    const coldSmall = [];
    const coldFull = [];
    for (let r = 0; r < cfg.coldOpenRounds; r++) {
      coldSmall.push(await coldOpen(backend, smallDir, kek));
      coldFull.push(await coldOpen(backend, fullDir, kek));
    }
    out.coldOpenSmall = figure(coldSmall, 'ms');
    out.coldOpenFull = figure(coldFull, 'ms');
  } finally {
    await raw.close();
    await empty.store.close();
    if (full) await full.store.close();
    for (const d of [rawDir, emptyDir, fullDir, smallDir]) dropDir(d);
  }
  return out;
}
