import { ErrorCode, KeyledgerError } from '../errors.js';
import { checkU16, checkU64 } from './wire.js';

/**
 * Registry row value, exactly 12 bytes:
 *
 * | offset | size | field                          |
 * |--------|------|--------------------------------|
 * | 0      | 8    | full_node_id u64 BE            |
 * | 8      | 2    | first_seen_local_epoch u16 BE  |
 * | 10     | 2    | last_seen_local_epoch u16 BE   |
 */
export interface RegistryRow {
  fullNodeId: bigint;
  firstSeenEpoch: number;
  lastSeenEpoch: number;
}

export const REGISTRY_ROW_LENGTH = 12;

export function encodeRegistryRow(row: RegistryRow): Uint8Array {
  const out = new Uint8Array(REGISTRY_ROW_LENGTH);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, checkU64('full_node_id', row.fullNodeId));
  view.setUint16(8, checkU16('first_seen_local_epoch', row.firstSeenEpoch));
  view.setUint16(10, checkU16('last_seen_local_epoch', row.lastSeenEpoch));
  return out;
}

/** A row of any other length is damage, never a missing row: treating it as absent would let a slot be re-registered. */
export function decodeRegistryRow(value: Uint8Array): RegistryRow {
  if (!(value instanceof Uint8Array) || value.length !== REGISTRY_ROW_LENGTH) {
    const len = value instanceof Uint8Array ? value.length : typeof value;
    throw new KeyledgerError(ErrorCode.REGISTRY_VALUE_MALFORMED, `registry row must be 12 bytes, got ${len}`);
  }
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  return { fullNodeId: view.getBigUint64(0), firstSeenEpoch: view.getUint16(8), lastSeenEpoch: view.getUint16(10) };
}
