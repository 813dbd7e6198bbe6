import { ErrorCode, KeyledgerError, invalidArgument } from '../errors.js';
import { REGISTRATION_TUPLE_LENGTH, readRegistrationTuple, writeRegistrationTuple, type Registration } from './registration.js';
import { Opcode, WireReader, WireWriter, checkBytes, checkU32, malformed } from './wire.js';

/**
 * Rotation entry (opcode 0x05):
 *
 * | size | field                                                  |
 * |------|--------------------------------------------------------|
 * | 1    | opcode 0x05                                            |
 * | 1    | version 0x01                                           |
 * | 1    | subtag: 0x01 rotate DEK, 0x04 storage env, 0x05 raft env |
 * | 4    | dek_id u32 BE                                          |
 * | 1    | purpose: 1 storage, 2 raft                             |
 * | 4    | len u32 BE                                             |
 * | len  | wrapped DEK (empty for envelope cutovers)              |
 * | 14   | proposer: dek_id u32 ‖ full_node_id u64 ‖ epoch u16    |
 */
export const RotationSubtag = {
  ROTATE_DEK: 0x01,
  ENABLE_STORAGE_ENVELOPE: 0x04,
  ENABLE_RAFT_ENVELOPE: 0x05,
} as const;
export type RotationSubtag = (typeof RotationSubtag)[keyof typeof RotationSubtag];

export const Purpose = { STORAGE: 1, RAFT: 2 } as const;
export type Purpose = (typeof Purpose)[keyof typeof Purpose];

export interface Rotation {
  subtag: RotationSubtag;
  dekId: number;
  purpose: Purpose;
  wrapped: Uint8Array;
  proposer: Registration;
}

function checkSubtag(v: number): RotationSubtag {
  if (v !== RotationSubtag.ROTATE_DEK && v !== RotationSubtag.ENABLE_STORAGE_ENVELOPE && v !== RotationSubtag.ENABLE_RAFT_ENVELOPE) {
    throw new KeyledgerError(ErrorCode.FSM_WIRE_SUBTAG, `unknown rotation subtag 0x${v.toString(16).padStart(2, '0')}`);
  }
  return v;
}

function checkPurpose(v: number): Purpose {
  if (v !== Purpose.STORAGE && v !== Purpose.RAFT) throw malformed(`unknown key purpose ${v} (1 storage, 2 raft)`);
  return v;
}

function asArgument<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    throw invalidArgument((err as Error).message);
  }
}

export function encodeRotation(rot: Rotation): Uint8Array {
  // The same rules as decoding, but a bad value here is the caller's argument, not log damage.
  const subtag = asArgument(() => checkSubtag(typeof rot.subtag === 'number' ? rot.subtag : NaN));
  const purpose = asArgument(() => checkPurpose(typeof rot.purpose === 'number' ? rot.purpose : NaN));
  const wrapped = checkBytes('wrapped', rot.wrapped);
  const w = WireWriter.entry(Opcode.ROTATION, 2 + 1 + 4 + 1 + 4 + wrapped.length + REGISTRATION_TUPLE_LENGTH)
    .u8(subtag)
    .u32(checkU32('dek_id', rot.dekId))
    .u8(purpose)
    .u32(wrapped.length)
    .raw(wrapped);
  writeRegistrationTuple(w, rot.proposer);
  return w.bytes;
}

/** Decodes a whole rotation entry, opcode byte included. */
export function decodeRotation(entry: Uint8Array): Rotation {
  const r = WireReader.entry(entry, Opcode.ROTATION, 'rotation');
  const subtag = checkSubtag(r.u8('subtag'));
  const dekId = r.u32('dek_id');
  const purpose = checkPurpose(r.u8('purpose'));
  const wrapped = r.bytes(r.u32('wrapped length'), 'wrapped DEK');
  const proposer = readRegistrationTuple(r, 'proposer');
  r.end();
  return { subtag, dekId, purpose, wrapped, proposer };
}
