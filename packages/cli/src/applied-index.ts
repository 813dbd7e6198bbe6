import type { RegistryStore } from '@keyledger/core';

/**
 * The store key of the applied index of every entry, ASCII `!encryption|applied`, u64 big-endian
 * (docs/design.md, section 'Applied-index record'). Written by the applier in the same atomic write as
 * each entry's effects; the effective applied index is the larger of it and the state's
 * `raft_applied_index`.
 */
export const APPLIED_KEY: Uint8Array = new TextEncoder().encode('!encryption|applied');

export function encodeAppliedIndex(index: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, index);
  return out;
}

/** The store's applied-index record, or 0n when it holds none (or one that is not 8 bytes). */
export async function readAppliedRecord(store: RegistryStore): Promise<bigint> {
  const raw = await store.get(APPLIED_KEY);
  if (raw === undefined || raw.length !== 8) return 0n;
  return new DataView(raw.buffer, raw.byteOffset, 8).getBigUint64(0);
}

/** The effective applied index: the larger of the record and the state's `raft_applied_index`. */
export function effectiveAppliedIndex(record: bigint, stateIndex: bigint): bigint {
  return record > stateIndex ? record : stateIndex;
}
