import type { Registration } from '../codec/registration.js';
import type { ApplierOptions } from './applier-options.js';

/**
 * The `local_epoch` a newly installed key starts at on this replica: the highest epoch the
 * installing entry registers for `options.localNodeId` under `dekId`, else 0. elastickv writes its
 * process epoch there (`WithLocalEpoch`) for the same reason: a writer the entry names must not
 * find its registry row ahead of its own record and be refused as a rollback
 * (docs/design.md, section 'Encryptor').
 */
export function startingLocalEpoch(options: ApplierOptions, dekId: number, named: readonly Registration[]): number {
  const self = options.localNodeId;
  let epoch = 0;
  if (self === undefined) return epoch;
  for (const r of named) if (r.dekId === dekId && r.fullNodeId === self && r.localEpoch > epoch) epoch = r.localEpoch;
  return epoch;
}
