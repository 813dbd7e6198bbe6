// The keys and entries every scenario works on. Raw baselines and keyledger see the same keys,
// so the only difference between their figures is the code in between.
import { encodeRegistration, encodeRegistryRow, registryKey } from '@keyledger/core';

/** Slots per DEK id in the registry key (node_id16). */
const SLOTS = 0x10000;
const HALF = SLOTS / 2;
/** High bits of every full node id: constant, so a slot's owner never changes between rounds. */
const NODE_HIGH = 0x5eedn << 48n;

/** An odd multiplier is a permutation of 0..2^15-1: consecutive fresh keys land far apart in the B-tree / LSM. */
const scatter15 = (i) => (i * 20021) & 0x7fff;
const scatter16 = (i) => (i * 40503) & 0xffff;

export function fullNodeId(dekId, slot) {
  return NODE_HIGH | (BigInt(dekId) << 16n) | BigInt(slot);
}

/**
 * Where keys go. A registry only ever takes registrations for the DEKs in use: rows of retired DEKs
 * stay but are never touched again. So the big store is pre-filled with the even slots of DEK ids
 * 1–31 (31 × 32,768 ≥ 1,000,000 rows, "history"), and the measured registrations go, on the big
 * and on the empty store alike, to odd slots of DEK ids from ACTIVE_DEK on ("the DEKs in use").
 * The "scattered" stress figures instead insert odd slots of DEK ids 1–31: between existing rows,
 * all over the big store's key space.
 */
export const ACTIVE_DEK = 1000;
const HISTORY_DEK = 1;

/** The j-th pre-filled row: even slots of DEK ids 1, 2, …, in key order (fast bulk load). */
export function prefillSlot(j) {
  return { dekId: HISTORY_DEK + Math.floor(j / HALF), slot: (j % HALF) * 2 };
}

/** The j-th fresh odd slot from DEK id `firstDek` on, scattered within each DEK id. */
function oddSlot(firstDek, j) {
  return { dekId: firstDek + Math.floor(j / HALF), slot: scatter15(j % HALF) * 2 + 1 };
}

/** The j-th slot of the RSS run: every slot of DEK ids from ACTIVE_DEK on, scattered within each. */
export function rssSlot(j) {
  return { dekId: ACTIVE_DEK + Math.floor(j / SLOTS), slot: scatter16(j % SLOTS) };
}

/**
 * Hands out fresh slots: one allocator per store and placement, so no two chunks on a store touch
 * the same key, and allocators that start alike hand out identical key sequences.
 */
export class SlotAllocator {
  #next = 0;
  constructor(placement = 'active') {
    this.firstDek = placement === 'scattered' ? HISTORY_DEK : ACTIVE_DEK;
  }
  take(n) {
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = oddSlot(this.firstDek, this.#next++);
    return out;
  }
}

export function keyOf({ dekId, slot }) {
  return Buffer.from(registryKey(dekId, fullNodeId(dekId, slot)));
}

export function rowOf({ dekId, slot }, first, last) {
  return Buffer.from(encodeRegistryRow({ fullNodeId: fullNodeId(dekId, slot), firstSeenEpoch: first, lastSeenEpoch: last }));
}

export function registrationOf({ dekId, slot }, epoch) {
  return encodeRegistration({ dekId, fullNodeId: fullNodeId(dekId, slot), localEpoch: epoch });
}

/**
 * A group of `n` registrations from the RSS run's slot `start` on, written straight into one buffer
 * (16 bytes each, the layout of codec/registration.ts) with no bigint, DataView or encoder object
 * per entry: the host's own garbage must not be counted as the applier's memory. Returns the
 * entries as views of that buffer. `rssRawGroup` does the same for the raw baseline's keys and rows.
 */
export function rssEntries(start, n, epoch) {
  const buf = new Uint8Array(16 * n);
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    const { dekId, slot } = rssSlot(start + i);
    const e = buf.subarray(16 * i, 16 * i + 16);
    e[0] = 0x03; // opcode registration
    e[1] = 0x01; // version
    e[4] = dekId >>> 8; // dek_id u32 (below 2^16 here)
    e[5] = dekId & 0xff;
    writeNodeId(e, 6, dekId, slot);
    e[14] = epoch >>> 8;
    e[15] = epoch & 0xff;
    out[i] = e;
  }
  return out;
}

/** Registry keys and rows (first = last = epoch) of the same slots as rssEntries, in one buffer each. */
export function rssRawGroup(start, n, epoch) {
  const keyBuf = Buffer.alloc(27 * n);
  const rowBuf = Buffer.alloc(12 * n);
  const keys = new Array(n);
  const rows = new Array(n);
  for (let i = 0; i < n; i++) {
    const { dekId, slot } = rssSlot(start + i);
    const k = keyBuf.subarray(27 * i, 27 * i + 27);
    k.set(KEY_PREFIX);
    k[22] = dekId >>> 8; // dek_id u32 at 20 (below 2^16 here)
    k[23] = dekId & 0xff;
    k[24] = 0x7c; // '|'
    k[25] = slot >>> 8;
    k[26] = slot & 0xff;
    const r = rowBuf.subarray(12 * i, 12 * i + 12);
    writeNodeId(r, 0, dekId, slot);
    r[8] = r[10] = epoch >>> 8;
    r[9] = r[11] = epoch & 0xff;
    keys[i] = k;
    rows[i] = r;
  }
  return { keys, rows };
}

const KEY_PREFIX = new TextEncoder().encode('!encryption|writers|');

/** fullNodeId(dekId, slot) as 8 big-endian bytes at `at`, for dek ids below 2^16. */
function writeNodeId(b, at, dekId, slot) {
  b[at] = 0x5e;
  b[at + 1] = 0xed;
  b[at + 2] = 0;
  b[at + 3] = 0;
  b[at + 4] = dekId >>> 8;
  b[at + 5] = dekId & 0xff;
  b[at + 6] = slot >>> 8;
  b[at + 7] = slot & 0xff;
}

/**
 * One round's work, prepared before the clock starts: `slots` are registered at epoch 1 (new
 * slots: a read that misses, then an insert), then advanced to epoch 2 (a read that hits, then an
 * update). For the raw baselines: the keys and the 12-byte rows to write; for keyledger: the
 * registration entries. Ops = 2 × slots.
 */
export function prepareRound(slots) {
  const keys = slots.map(keyOf);
  return {
    ops: 2 * slots.length,
    keys,
    rows: [slots.map((s) => rowOf(s, 1, 1)), slots.map((s) => rowOf(s, 1, 2))],
    entries: [slots.map((s) => registrationOf(s, 1)), slots.map((s) => registrationOf(s, 2))],
  };
}

/** Throws unless the buffer-writing generators of the RSS run produce exactly what the codecs produce. */
export function checkRssGenerators() {
  const n = 2000;
  const start = 0xffff - 999;
  const entries = rssEntries(start, n, 1);
  const { keys, rows } = rssRawGroup(start, n, 1);
  const same = (a, b) => a.length === b.length && a.every((x, j) => x === b[j]);
  for (let i = 0; i < n; i++) {
    const slot = rssSlot(start + i);
    if (!same(entries[i], registrationOf(slot, 1)) || !same(keys[i], keyOf(slot)) || !same(rows[i], rowOf(slot, 1, 1))) {
      throw new Error(`RSS generators disagree with the codecs at slot ${start + i}`);
    }
  }
}
