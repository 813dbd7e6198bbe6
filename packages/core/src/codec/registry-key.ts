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

/** The 16-bit writer slot of a full node id: the part of it that goes into every nonce. */
export function nodeId16(fullNodeId: bigint): number {
  return Number(fullNodeId & 0xffffn);
}

export function encodeRegistryKey(dekId: number, slot: number): Uint8Array {
  // An out-of-range field is a caller's error, reported like every encoder's (ERR_FSM_WIRE_MALFORMED);
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
