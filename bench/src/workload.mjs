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
 * The j-th pre-filled row: even slots of DEK ids 1, 2, …, in key order (fast bulk load).
 * Measured keys use odd slots of the same DEK ids, so on a pre-filled store they land between
 * existing rows rather than at the end of the key space.
 */
export function prefillSlot(j) {
  return { dekId: 1 + Math.floor(j / HALF), slot: (j % HALF) * 2 };
}

/** The j-th fresh measured slot: odd slots, scattered within each DEK id. */
export function freshSlot(j) {
  return { dekId: 1 + Math.floor(j / HALF), slot: scatter15(j % HALF) * 2 + 1 };
}

/** The j-th slot of the RSS run: every slot of every DEK id, scattered. */
export function rssSlot(j) {
  return { dekId: 1 + Math.floor(j / SLOTS), slot: scatter16(j % SLOTS) };
}

/** Hands out fresh slots; one per store, so no two rounds on a store touch the same key. */
export class SlotAllocator {
  #next = 0;
  take(n) {
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = freshSlot(this.#next++);
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
