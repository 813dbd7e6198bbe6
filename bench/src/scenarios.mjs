// The throughput and open-time scenarios of one backend, run in this process.
import { Applier, FileKek, encodeBootstrap } from '@keyledger/core';
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { KEYLEDGER, RAW } from './backends.mjs';
import { figure, gc } from './stats.mjs';
import { dropDir, freshDir } from './tmpdir.mjs';
import { SlotAllocator, keyOf, prefillSlot, prepareRound, rowOf } from './workload.mjs';

const PREFILL_BATCH = 50_000;

/**
 * Writes `rows` registry rows in big batches: `write(keys, values)` is the keyledger store's own
 * `write` (not the applier) or the raw library's group commit.
 */
async function prefill(write, rows) {
  for (let start = 0; start < rows; start += PREFILL_BATCH) {
    const n = Math.min(PREFILL_BATCH, rows - start);
    const keys = new Array(n);
    const values = new Array(n);
    for (let i = 0; i < n; i++) {
      const slot = prefillSlot(start + i);
      keys[i] = keyOf(slot);
      values[i] = rowOf(slot, 1, 1);
    }
    await write(keys, values);
  }
}

const storeWriter = (store) => (keys, values) => store.write(keys.map((key, i) => ({ key, value: values[i] })));

function expectEffects(results, want, what) {
  for (const r of results) {
    if (r.effect !== want) throw new Error(`${what}: expected every registration to be '${want}', got '${r.effect}'`);
  }
}

let raftIndex = 0n;

/** Runs a round's two phases (inserts, then advances) with `apply(entries, wantedEffect)`; returns its ops. */
async function eachPhase(round, apply) {
  for (let phase = 0; phase < 2; phase++) await apply(round.entries[phase], EFFECTS[phase]);
  return round.ops;
}

/**
 * Scenarios of the interleaved measurements. Each takes chunks of work prepared before its clock
 * starts: `prepare()` returns a chunk, `run(chunk)` performs it and is timed. Raw and keyledger
 * scenarios on one backend draw fresh slots from allocators that start alike, so they work on
 * identical key sequences.
 */
export const scenario = {
  /** The disk's limit: write 64 B at offset 0 of a file and fsync it, `n` times per chunk. */
  fsync(dir, n) {
    const fd = openSync(join(dir, 'fsync-probe'), 'w');
    const buf = Buffer.alloc(64, 0x5a);
    return {
      prepare: () => n,
      run(count) {
        for (let i = 0; i < count; i++) {
          writeSync(fd, buf, 0, 64, 0);
          fsyncSync(fd);
        }
        return count;
      },
      close: () => closeSync(fd),
    };
  },
  /** The raw library, one read-modify-write per durable commit. */
  rawPerOp(raw, slots, n) {
    return {
      prepare: () => prepareRound(slots.take(n)),
      async run(round) {
        for (const rows of round.rows) for (let i = 0; i < round.keys.length; i++) await raw.perOp(round.keys[i], rows[i]);
        return round.ops;
      },
    };
  },
  /** The raw library, one group of reads then one durable commit of the group's writes. */
  rawGrouped(raw, slots, n) {
    return {
      prepare: () => prepareRound(slots.take(n)),
      async run(round) {
        for (const rows of round.rows) await raw.group(round.keys, rows);
        return round.ops;
      },
    };
  },
  /** `applyEntry`, one registration per durable commit. */
  perEntry(applier, slots, n) {
    return {
      prepare: () => prepareRound(slots.take(n)),
      run: (round) =>
        eachPhase(round, async (entries, want) => {
          for (let i = 0; i < entries.length; i++) expectEffects([await applier.applyEntry(entries[i], ++raftIndex)], want, 'applyEntry');
        }),
    };
  },
  /**
   * `applyEntry` with `inFlight` calls outstanding, as a Raft apply loop hands entries over: a
   * sliding window, each call made (and given its index) in log order without awaiting the ones
   * before it. The applier coalesces the calls queued behind a write into the next one.
   */
  pipelined(applier, slots, n, inFlight) {
    return {
      prepare: () => prepareRound(slots.take(n)),
      run: (round) =>
        eachPhase(round, async (entries, want) => {
          let next = 0;
          const lane = async () => {
            while (next < entries.length)
              expectEffects([await applier.applyEntry(entries[next++], ++raftIndex)], want, 'pipelined applyEntry');
          };
          await Promise.all(Array.from({ length: inFlight }, lane));
        }),
    };
  },
  /** `applyEntries` with one group of registrations per durable commit (groups of `size`, default all `n`). */
  grouped(applier, slots, n, size = n) {
    return {
      prepare() {
        const round = prepareRound(slots.take(n));
        round.items = round.entries.map((entries) => entries.map((entry) => ({ entry, index: ++raftIndex })));
        return round;
      },
      async run(round) {
        for (let phase = 0; phase < 2; phase++) {
          const items = round.items[phase];
          for (let i = 0; i < items.length; i += size)
            expectEffects(await applier.applyEntries(items.slice(i, i + size)), EFFECTS[phase], 'applyEntries');
        }
        return round.ops;
      },
    };
  },
};

const EFFECTS = ['inserted', 'advanced'];

/**
 * Runs every scenario in `rounds` rounds, after one unrecorded warm-up round. A round runs
 * `chunks` chunks of each scenario, interleaved chunk by chunk in a rotating order, and records
 * each scenario's ops over its summed time: on a shared machine a noisy neighbour then slows
 * every scenario of the round alike instead of whichever ran during the burst.
 */
export async function interleaved(scenarios, rounds, chunks) {
  const names = Object.keys(scenarios);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = -1; r < rounds; r++) {
    const ms = Object.fromEntries(names.map((n) => [n, 0]));
    const ops = Object.fromEntries(names.map((n) => [n, 0]));
    gc();
    for (let c = 0; c < chunks; c++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(k + c + Math.max(r, 0)) % names.length];
        const work = scenarios[name].prepare();
        const t0 = performance.now();
        ops[name] += await scenarios[name].run(work);
        ms[name] += performance.now() - t0;
      }
    }
    if (r >= 0) for (const n of names) samples[n].push(ops[n] / (ms[n] / 1000));
  }
  return Object.fromEntries(names.map((n) => [n, figure(samples[n], 'ops/s')]));
}

/** Every KEK and DEK the run made: main.mjs checks that none of them reaches its output or files. */
export const keyMaterial = [];

/**
 * A fresh KEK and a bootstrap entry installing two fresh DEKs under it, every key recorded in
 * `keyMaterial`; `storageDek` is the plain storage DEK, for a raw baseline that needs the key.
 */
export async function bootstrap({ storageDekId = 0xfff0, raftDekId = 0xfff1 } = {}) {
  const kekBytes = randomBytes(32);
  const storageDek = randomBytes(32);
  const raftDek = randomBytes(32);
  keyMaterial.push(kekBytes, storageDek, raftDek);
  const kek = FileKek.fromBytes(kekBytes, 'bench');
  const entry = encodeBootstrap({
    storageDekId,
    storageWrapped: await kek.wrap(storageDek),
    raftDekId,
    raftWrapped: await kek.wrap(raftDek),
    registrations: [],
  });
  return { kekBytes, kek, entry, storageDek };
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
  const rawFullDir = freshDir(`${backend}-raw-full`);
  const emptyDir = freshDir(`${backend}-empty`);
  const fullDir = freshDir(`${backend}-full`);
  const smallDir = freshDir(`${backend}-small`);
  const raw = await RAW[backend](rawDir);
  const rawFull = await RAW[backend](rawFullDir);
  const empty = await KEYLEDGER[backend](emptyDir);
  let full = await KEYLEDGER[backend](fullDir);
  const out = {};
  try {
    log(`${backend}: pre-filling ${cfg.prefillRows.toLocaleString('en')} rows (keyledger store, then raw store)`);
    let t0 = performance.now();
    await prefill(storeWriter(full.store), cfg.prefillRows);
    await full.settle();
    out.prefillSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    await prefill((keys, values) => rawFull.group(keys, values), cfg.prefillRows);
    await rawFull.settle();
    out.rawPrefillSeconds = (performance.now() - t0) / 1000;
    const emptyApplier = await Applier.open(empty.store);
    const fullApplier = await Applier.open(full.store);
    const [rawSlots, emptySlots, fullSlots] = [new SlotAllocator(), new SlotAllocator(), new SlotAllocator()];
    const [rawFullSlots, rawScattered, fullScattered] = [
      new SlotAllocator(),
      new SlotAllocator('scattered'),
      new SlotAllocator('scattered'),
    ];

    log(`${backend}: one op per commit, ${cfg.perOpRounds} rounds × ${cfg.perOpChunks} chunks × ${2 * cfg.perOpChunkSlots} ops`);
    const fsync = scenario.fsync(rawDir, 2 * cfg.perOpChunkSlots);
    try {
      Object.assign(
        out,
        await interleaved(
          {
            disk: fsync,
            rawPerOp: scenario.rawPerOp(raw, rawSlots, cfg.perOpChunkSlots),
            perEntry: scenario.perEntry(emptyApplier, emptySlots, cfg.perOpChunkSlots),
            perEntryFull: scenario.perEntry(fullApplier, fullSlots, cfg.perOpChunkSlots),
          },
          cfg.perOpRounds,
          cfg.perOpChunks,
        ),
      );
    } finally {
      fsync.close();
    }
    log(`${backend}: groups of ${cfg.groupSize}, ${cfg.groupedRounds} rounds × ${cfg.groupedChunks} chunks × ${2 * cfg.groupSize} ops`);
    Object.assign(
      out,
      await interleaved(
        {
          rawGrouped: scenario.rawGrouped(raw, rawSlots, cfg.groupSize),
          grouped: scenario.grouped(emptyApplier, emptySlots, cfg.groupSize),
          groupedFull: scenario.grouped(fullApplier, fullSlots, cfg.groupSize),
          rawGroupedFull: scenario.rawGrouped(rawFull, rawFullSlots, cfg.groupSize),
          rawGroupedScattered: scenario.rawGrouped(rawFull, rawScattered, cfg.groupSize),
          groupedScattered: scenario.grouped(fullApplier, fullScattered, cfg.groupSize),
        },
        cfg.groupedRounds,
        cfg.groupedChunks,
      ),
    );
    await emptyApplier.close();
    await fullApplier.close();

    log(`${backend}: open times`);
    // The small store: 10 rows and a bootstrapped state; the big one gets the same state.
    const small = await KEYLEDGER[backend](smallDir);
    await prefill(storeWriter(small.store), 10);
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
    await rawFull.close();
    await empty.store.close();
    if (full) await full.store.close();
    for (const d of [rawDir, rawFullDir, emptyDir, fullDir, smallDir]) dropDir(d);
  }
  return out;
}
