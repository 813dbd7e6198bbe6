import type { EncryptionState, KeyEntry } from '../state/encryption-state.js';

/** A copy of `s` with `patch` applied; the committed state object is never mutated in place. */
export function withState(s: EncryptionState, patch: Partial<Omit<EncryptionState, 'version'>>): EncryptionState {
  return { ...s, active: { ...s.active }, keys: new Map(s.keys), ...patch };
}

/** Raises the applied index to `index`; it never goes down. */
export function raiseAppliedIndex(s: EncryptionState, index: bigint | undefined): EncryptionState {
  if (index === undefined || index <= s.raftAppliedIndex) return s;
  return withState(s, { raftAppliedIndex: index });
}

export function withKey(s: EncryptionState, id: number, entry: KeyEntry): EncryptionState {
  const keys = new Map(s.keys);
  keys.set(id, entry);
  return withState(s, { keys });
}
