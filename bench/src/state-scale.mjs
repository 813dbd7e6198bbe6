// How the encryption state's size shows: `Applier.open` and one DEK rotation's apply on a store
// whose state holds 10 DEKs and on one whose state holds `manyDeks` (10,000 in the full run). The
// state is one JSON record (the layout of elastickv's keys.json sidecar), rewritten whole on every
// bootstrap and rotation, and read and unwrapped whole by every open.
import { randomBytes } from 'node:crypto';
import { Applier, FileKek, Purpose, RotationSubtag, STATE_KEY, encodeBootstrap, encodeRotation, encodeState } from '@keyledger/core';
import { KEYLEDGER } from './backends.mjs';
import { figure, gc } from './stats.mjs';
import { dropDir, freshDir } from './tmpdir.mjs';

const FEW_DEKS = 10;
/** The fixed creation time of the DEKs the set-up writes straight into the state. */
const CREATED = '2026-01-01T00:00:00.000Z';

/** A fresh DEK, recorded for the run's key-hygiene check. */
function newDek(keyMaterial) {
  const dek = randomBytes(32);
  keyMaterial.push(dek);
  return dek;
}

/**
 * A store whose state holds `deks` DEKs: a real bootstrap through the applier (DEKs 1 and 2), then
 * the other DEKs written into the state record directly, as `deks - 2` rotations would have left
 * them (set-up only: applying 10,000 rotations would rewrite the record 10,000 times).
 */
async function storeWithDeks(backend, deks, kek, keyMaterial) {
  const dir = freshDir(`${backend}-deks-${deks}`);
  const { store } = await KEYLEDGER[backend](dir);
  const applier = await Applier.open(store, { kek });
  const bootstrap = encodeBootstrap({
    storageDekId: 1,
    storageWrapped: await kek.wrap(newDek(keyMaterial)),
    raftDekId: 2,
    raftWrapped: await kek.wrap(newDek(keyMaterial)),
    registrations: [],
  });
  const r = await applier.applyEntry(bootstrap, 1n);
  if (r.kind !== 'bootstrap') throw new Error(`state scale: the bootstrap was not applied (${r.kind})`);
  const state = applier.state;
  await applier.close();
  const keys = new Map(state.keys);
  for (let id = 3; id <= deks; id++) {
    keys.set(id, { purpose: 'storage', wrapped: await kek.wrap(newDek(keyMaterial)), created: CREATED, localEpoch: 0 });
  }
  const record = encodeState({ ...state, keys });
  await store.write([{ key: STATE_KEY, value: record }]);
  return { dir, store, deks, recordBytes: record.length, nextId: deks + 1, nextIndex: 2n };
}

/** One `Applier.open` with the KEK: the state record read and decoded, every DEK unwrapped. */
async function timeOpen(s, kek) {
  gc();
  const t0 = performance.now();
  const applier = await Applier.open(s.store, { kek });
  const ms = performance.now() - t0;
  if (applier.keyIds().length !== s.deks) throw new Error(`state scale: open held ${applier.keyIds().length} DEKs, not ${s.deks}`);
  await applier.close();
  return ms;
}

/** One DEK rotation applied with `applyEntry` on an open applier (the open is not timed). */
async function timeRotation(s, kek, keyMaterial) {
  const dekId = s.nextId++;
  const entry = encodeRotation({
    subtag: RotationSubtag.ROTATE_DEK,
    dekId,
    purpose: Purpose.STORAGE,
    wrapped: await kek.wrap(newDek(keyMaterial)),
    proposer: { dekId, fullNodeId: 0x5eed_0000_0000_0001n, localEpoch: 1 },
  });
  const applier = await Applier.open(s.store, { kek });
  gc();
  const t0 = performance.now();
  const r = await applier.applyEntry(entry, s.nextIndex++);
  const ms = performance.now() - t0;
  await applier.close();
  if (r.effect !== 'rotated') throw new Error(`state scale: expected the rotation to be 'rotated', got '${r.effect}'`);
  s.deks++;
  return ms;
}

/**
 * `Applier.open` and a rotation with 10 DEKs and with `cfg.manyDeks`, `cfg.stateRounds` times each
 * (after one unrecorded warm-up), the two stores alternating. A rotation adds a DEK, so the stores
 * end `stateRounds + 1` DEKs larger than they started.
 */
export async function benchStateScale(backend, cfg, keyMaterial, log) {
  log(`${backend}: Applier.open and a rotation with ${FEW_DEKS} and with ${cfg.manyDeks.toLocaleString('en')} DEKs in the state`);
  const kekBytes = randomBytes(32);
  keyMaterial.push(kekBytes);
  const kek = FileKek.fromBytes(kekBytes, 'bench');
  const few = await storeWithDeks(backend, FEW_DEKS, kek, keyMaterial);
  const many = await storeWithDeks(backend, cfg.manyDeks, kek, keyMaterial);
  try {
    const samples = { openFew: [], openMany: [], rotateFew: [], rotateMany: [] };
    for (let r = -1; r < cfg.stateRounds; r++) {
      const round = {
        openFew: await timeOpen(few, kek),
        openMany: await timeOpen(many, kek),
        rotateFew: await timeRotation(few, kek, keyMaterial),
        rotateMany: await timeRotation(many, kek, keyMaterial),
      };
      if (r >= 0) for (const [k, v] of Object.entries(round)) samples[k].push(v);
    }
    return {
      deksFew: FEW_DEKS,
      deksMany: cfg.manyDeks,
      stateRecordBytesFew: few.recordBytes,
      stateRecordBytesMany: many.recordBytes,
      ...Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, figure(v, 'ms')])),
    };
  } finally {
    for (const s of [few, many]) {
      await s.store.close();
      dropDir(s.dir);
    }
    kek.close?.();
  }
}
