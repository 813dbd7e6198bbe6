import { readU16BE, readU32BE } from '../bytes.js';
import { ErrorCode, KeyledgerError } from '../errors.js';
import { checkU16, checkU32, checkU64 } from './wire.js';

/**
 * Registry key, 27 bytes:
 *
 * | offset | size | field                            |
 * |--------|------|----------------------------------|
 * | 0      | 20   | ASCII `!encryption|writers|`     |
 * | 20     | 4    | dek_id u32 BE                    |
 * | 24     | 1    | `|` (0x7C)                       |
 * | 25     | 2    | node_id16 u16 BE                 |
 */
export const REGISTRY_PREFIX: Uint8Array = new TextEncoder().encode('!encryption|writers|');
export const REGISTRY_KEY_LENGTH = 27;
const SEPARATOR = 0x7c;

export interface RegistryKey {
  dekId: number;
  nodeId16: number;
}

/** A full node id as `0x` and 16 lowercase hex digits: how the sidecar and every message write one. */
export function formatNodeId(fullNodeId: bigint): string {
  return `0x${fullNodeId.toString(16).padStart(16, '0')}`;
}

/** The 16-bit writer slot of a full node id: the part of it that goes into every nonce. */
export function nodeId16(fullNodeId: bigint): number {
  return Number(fullNodeId & 0xffffn);
}

export function encodeRegistryKey(dekId: number, slot: number): Uint8Array {
  // An out-of-range field is a caller's error, reported like every encoder's (ERR_INVALID_ARGUMENT);
  // ERR_REGISTRY_KEY_MALFORMED is for stored keys that do not decode.
  checkU32('dek_id', dekId);
  checkU16('node_id16', slot);
  const key = new Uint8Array(REGISTRY_KEY_LENGTH);
  key.set(REGISTRY_PREFIX, 0);
  const view = new DataView(key.buffer);
  view.setUint32(20, dekId);
  key[24] = SEPARATOR;
  view.setUint16(25, slot);
  return key;
}

/** The registry key of (dek_id, node_id16 of fullNodeId). */
export function registryKey(dekId: number, fullNodeId: bigint): Uint8Array {
  // Checked, not masked: -1n or 2^64 + 5 would otherwise land silently in slot 0xFFFF or 5.
  return encodeRegistryKey(dekId, nodeId16(checkU64('full_node_id', fullNodeId)));
}

// Byte-level accessors: the applier works on bytes so a group needs no bigint, DataView or object
// per entry. test/codec/registry-key.test.ts pins them against encodeRegistryKey.
const KEY_DEK_AT = 20;
const KEY_SLOT_AT = 25;
/** prefix ‖ dek 0 ‖ `|` ‖ slot 0: a key is this with its dek_id and slot copied in. */
const KEY_TEMPLATE = encodeRegistryKey(0, 0);

/**
 * The registry key whose dek_id is the 4 bytes of `src` at `dekAt` and whose node_id16 is the 2
 * at `slotAt`, written into `key` when given (27 bytes; a group writes its keys into one buffer).
 */
export function registryKeyAt(src: Uint8Array, dekAt: number, slotAt: number, key?: Uint8Array): Uint8Array {
  if (key === undefined) key = new Uint8Array(KEY_TEMPLATE);
  else key.set(KEY_TEMPLATE);
  key[KEY_DEK_AT] = src[dekAt]!;
  key[KEY_DEK_AT + 1] = src[dekAt + 1]!;
  key[KEY_DEK_AT + 2] = src[dekAt + 2]!;
  key[KEY_DEK_AT + 3] = src[dekAt + 3]!;
  key[KEY_SLOT_AT] = src[slotAt]!;
  key[KEY_SLOT_AT + 1] = src[slotAt + 1]!;
  return key;
}

/**
 * A registry slot as one number, `dek_id × 2^16 + node_id16` (below 2^48, so exact, and cheap
 * to compute and hash), read from the same bytes as {@link registryKeyAt}.
 */
export function registrySlotAt(src: Uint8Array, dekAt: number, slotAt: number): number {
  return readU32BE(src, dekAt) * 0x10000 + readU16BE(src, slotAt);
}

/** {@link registrySlotAt} of a registry key. */
export function registrySlot(key: Uint8Array): number {
  return registrySlotAt(key, KEY_DEK_AT, KEY_SLOT_AT);
}

export function isRegistryKey(key: Uint8Array): boolean {
  if (key.length !== REGISTRY_KEY_LENGTH || key[24] !== SEPARATOR) return false;
  for (let i = 0; i < REGISTRY_PREFIX.length; i++) if (key[i] !== REGISTRY_PREFIX[i]) return false;
  return true;
}

export function decodeRegistryKey(key: Uint8Array): RegistryKey {
  if (!(key instanceof Uint8Array) || !isRegistryKey(key)) {
    throw new KeyledgerError(
      ErrorCode.REGISTRY_KEY_MALFORMED,
      'not a registry key: expects 27 bytes "!encryption|writers|" ‖ dek_id ‖ "|" ‖ node_id16',
    );
  }
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  return { dekId: view.getUint32(20), nodeId16: view.getUint16(25) };
}

/** prefix ‖ dek_id ‖ `|` (25 bytes): scan it to list one DEK's writers. */
export function registryDekPrefix(dekId: number): Uint8Array {
  checkU32('dek_id', dekId);
  const p = new Uint8Array(REGISTRY_KEY_LENGTH - 2);
  p.set(REGISTRY_PREFIX, 0);
  new DataView(p.buffer).setUint32(20, dekId);
  p[24] = SEPARATOR;
  return p;
}
