import type { Registration } from '../codec/registration.js';

/**
 * The `local_epoch` a newly installed key starts at: the highest epoch the installing entry (a
 * bootstrap's batch, a rotation's proposer) registers under it, else 0. A writer the entry names
 * then bumps past its own row instead of being refused as a rollback — the reason elastickv
 * writes its process epoch there (`WithLocalEpoch`). Taking the entry's maximum instead keeps the
 * state a function of the log (every replica holds the same bytes) and needs no node identity;
 * a writer the entry does not name merely starts a few epochs higher (docs/design.md, section
 * 'Encryptor').
 */
export function startingLocalEpoch(dekId: number, named: readonly Registration[]): number {
  let epoch = 0;
  for (const r of named) if (r.dekId === dekId && r.localEpoch > epoch) epoch = r.localEpoch;
  return epoch;
}
