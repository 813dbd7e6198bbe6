import { invalidArgument } from '../errors.js';
import { REGISTRATION_TUPLE_LENGTH, readRegistrationTuple, writeRegistrationTuple, type Registration } from './registration.js';
import { Opcode, WireReader, WireWriter, checkBytes, checkU32, malformed } from './wire.js';

/**
 * Bootstrap entry (opcode 0x04):
 *
 * | size     | field                                      |
 * |----------|--------------------------------------------|
 * | 1        | opcode 0x04                                |
 * | 1        | version 0x01                               |
 * | 4        | storage_dek u32 BE                         |
 * | 4        | len u32 BE                                 |
 * | len      | wrapped storage DEK                        |
 * | 4        | raft_dek u32 BE                            |
 * | 4        | len u32 BE                                 |
 * | len      | wrapped raft DEK                           |
 * | 4        | count u32 BE (≤ 16384)                     |
 * | count×14 | dek_id u32 ‖ full_node_id u64 ‖ epoch u16  |
 */
export interface Bootstrap {
  storageDekId: number;
  storageWrapped: Uint8Array;
  raftDekId: number;
  raftWrapped: Uint8Array;
  registrations: Registration[];
}

/** The largest batch a bootstrap may carry; checked before anything is allocated from `count`. */
export const MAX_BOOTSTRAP_BATCH = 16384;

export function encodeBootstrap(b: Bootstrap): Uint8Array {
  const storageWrapped = checkBytes('storage wrapped', b.storageWrapped);
  const raftWrapped = checkBytes('raft wrapped', b.raftWrapped);
  if (!Array.isArray(b.registrations) || b.registrations.length > MAX_BOOTSTRAP_BATCH) {
    throw invalidArgument(`bootstrap batch must be an array of at most ${MAX_BOOTSTRAP_BATCH} registrations`);
  }
  const size = 2 + 8 + storageWrapped.length + 8 + raftWrapped.length + 4 + b.registrations.length * REGISTRATION_TUPLE_LENGTH;
  const w = WireWriter.entry(Opcode.BOOTSTRAP, size)
    .u32(checkU32('storage_dek', b.storageDekId))
    .u32(storageWrapped.length)
    .raw(storageWrapped)
    .u32(checkU32('raft_dek', b.raftDekId))
    .u32(raftWrapped.length)
    .raw(raftWrapped)
    .u32(b.registrations.length);
  for (const r of b.registrations) writeRegistrationTuple(w, r);
  return w.bytes;
}

/** Decodes a whole bootstrap entry, opcode byte included. */
export function decodeBootstrap(entry: Uint8Array): Bootstrap {
  const r = WireReader.entry(entry, Opcode.BOOTSTRAP, 'bootstrap');
  const storageDekId = r.u32('storage_dek');
  const storageWrapped = r.bytes(r.u32('storage wrapped length'), 'storage wrapped DEK');
  const raftDekId = r.u32('raft_dek');
  const raftWrapped = r.bytes(r.u32('raft wrapped length'), 'raft wrapped DEK');
  const count = r.u32('batch count');
  // Both checks come before the array exists: a hostile count must not make us allocate.
  if (count > MAX_BOOTSTRAP_BATCH) throw malformed(`bootstrap batch count ${count} exceeds ${MAX_BOOTSTRAP_BATCH}`);
  if (count * REGISTRATION_TUPLE_LENGTH > r.remaining) {
    throw malformed(`bootstrap batch count ${count} needs ${count * REGISTRATION_TUPLE_LENGTH} bytes, ${r.remaining} left`);
  }
  const registrations: Registration[] = new Array(count);
  for (let i = 0; i < count; i++) registrations[i] = readRegistrationTuple(r, `batch[${i}]`);
  r.end();
  return { storageDekId, storageWrapped, raftDekId, raftWrapped, registrations };
}
