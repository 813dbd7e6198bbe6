import { APPLIED_KEY, decodeAppliedIndex, type RegistryStore } from '@keyledger/core';

/**
 * The store's effective applied index, read without an applier (docs/design.md, section
 * 'Applied-index record'): the larger of the state's `raft_applied_index` and the applied-index
 * record. A damaged record throws `ERR_STATE_MALFORMED`.
 */
export async function readAppliedIndex(store: RegistryStore, stateIndex: bigint): Promise<bigint> {
  const raw = await store.get(APPLIED_KEY);
  const record = raw === undefined ? 0n : decodeAppliedIndex(raw);
  return record > stateIndex ? record : stateIndex;
}
