import { readU16BE, readU32BE } from '../bytes.js';
import { invalidArgument } from '../errors.js';
import { registryKeyAt, registrySlotAt } from './registry-key.js';
import { Opcode, WIRE_VERSION, WireReader, WireWriter, checkU16, checkU32, checkU64, malformed } from './wire.js';

/**
 * Registration entry (opcode 0x03), 16 bytes in all; the body is exactly 15 bytes:
 *
 * | offset | size | field                |
 * |--------|------|----------------------|
 * | 0      | 1    | opcode 0x03          |
 * | 1      | 1    | version 0x01         |
 * | 2      | 4    | dek_id u32 BE        |
 * | 6      | 8    | full_node_id u64 BE  |
 * | 14     | 2    | local_epoch u16 BE   |
 */
export interface Registration {
  dekId: number;
  fullNodeId: bigint;
  localEpoch: number;
}

export const REGISTRATION_BODY_LENGTH = 15;
/** dek_id u32 ‖ full_node_id u64 ‖ local_epoch u16: the registration tuple inside bootstrap and rotation. */
export const REGISTRATION_TUPLE_LENGTH = 14;

/**
 * Writes the tuple, checking each field as it goes: a value out of range is the caller's argument
 * (ERR_INVALID_ARGUMENT), and the half-written entry is never returned.
 */
export function writeRegistrationTuple(w: WireWriter, r: Registration): void {
  if (typeof r !== 'object' || r === null) throw invalidArgument('a registration must be an object { dekId, fullNodeId, localEpoch }');
  w.u32(checkU32('dek_id', r.dekId)).u64(checkU64('full_node_id', r.fullNodeId)).u16(checkU16('local_epoch', r.localEpoch));
}

export function readRegistrationTuple(r: WireReader, what: string): Registration {
  return { dekId: r.u32(`${what} dek_id`), fullNodeId: r.u64(`${what} full_node_id`), localEpoch: r.u16(`${what} local_epoch`) };
}

export function encodeRegistration(reg: Registration): Uint8Array {
  const w = WireWriter.entry(Opcode.REGISTRATION, 1 + REGISTRATION_BODY_LENGTH);
  writeRegistrationTuple(w, reg);
  return w.bytes;
}

/** Decodes a whole registration entry, opcode byte included. */
export function decodeRegistration(entry: Uint8Array): Registration {
  const r = WireReader.entry(entry, Opcode.REGISTRATION, 'registration');
  if (entry.length !== 1 + REGISTRATION_BODY_LENGTH) {
    throw malformed(`registration body must be ${REGISTRATION_BODY_LENGTH} bytes, got ${entry.length - 1}`);
  }
  const reg = readRegistrationTuple(r, 'registration');
  r.end();
  return reg;
}

// Byte-level accessors over a whole registration entry, from the table above. The applier reads
// registrations straight from their bytes; test/codec/registration.test.ts pins these to the codec.
export const REGISTRATION_LENGTH = 1 + REGISTRATION_BODY_LENGTH;
const DEK_AT = 2;
/** Where full_node_id starts. */
export const REGISTRATION_NODE_AT = 6;
/** node_id16 is the low 16 bits of full_node_id: its last two bytes. */
const SLOT_AT = 12;
const EPOCH_AT = 14;

/**
 * True for exactly the entries `decodeRegistration` accepts: a Uint8Array of 16 bytes with
 * opcode 0x03 and version 0x01 (any 16 such bytes are a valid registration).
 */
export function isWellFormedRegistration(entry: unknown): entry is Uint8Array {
  return (
    entry instanceof Uint8Array && entry.length === REGISTRATION_LENGTH && entry[0] === Opcode.REGISTRATION && entry[1] === WIRE_VERSION
  );
}

/** The registry key of a well-formed registration: (dek_id, node_id16 of full_node_id), written into `key` when given. */
export function registrationKey(entry: Uint8Array, key?: Uint8Array): Uint8Array {
  return registryKeyAt(entry, DEK_AT, SLOT_AT, key);
}

/** `registrySlot(registrationKey(entry))`, straight from the entry's bytes. */
export function registrationSlot(entry: Uint8Array): number {
  return registrySlotAt(entry, DEK_AT, SLOT_AT);
}

export function registrationEpoch(entry: Uint8Array): number {
  return readU16BE(entry, EPOCH_AT);
}

/** The registration of a well-formed entry, without the reader's checks. */
export function registrationOf(entry: Uint8Array): Registration {
  return { dekId: registrationDek(entry), fullNodeId: registrationNode(entry), localEpoch: registrationEpoch(entry) };
}

export function registrationDek(entry: Uint8Array): number {
  return readU32BE(entry, DEK_AT);
}

/** Below 2^53 the id is built as one number and one bigint, not four bigints (a group reads a million). */
const SAFE_HIGH_WORD = 2 ** 21;

export function registrationNode(entry: Uint8Array): bigint {
  const hi = readU32BE(entry, REGISTRATION_NODE_AT);
  const lo = readU32BE(entry, REGISTRATION_NODE_AT + 4);
  // hi × 2^32 is exact as a double at any hi (32 significant bits).
  return hi < SAFE_HIGH_WORD ? BigInt(hi * 0x1_0000_0000 + lo) : BigInt(hi * 0x1_0000_0000) + BigInt(lo);
}
