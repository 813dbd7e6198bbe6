import { readU16BE } from '../bytes.js';
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

// Byte-level accessors for the applier's registration rule (pinned against the codec above in
// test/codec/registry-row.test.ts). They assume a row of exactly REGISTRY_ROW_LENGTH bytes.
const NODE_ID_LENGTH = 8;

/** A row whose full_node_id is the 8 bytes of `node` at `at`, written into `row` (a fresh one by default). */
export function registryRowAt(
  node: Uint8Array,
  at: number,
  first: number,
  last: number,
  row: Uint8Array = new Uint8Array(REGISTRY_ROW_LENGTH),
): Uint8Array {
  for (let i = 0; i < NODE_ID_LENGTH; i++) row[i] = node[at + i]!;
  row[8] = first >>> 8;
  row[9] = first & 0xff;
  row[10] = last >>> 8;
  row[11] = last & 0xff;
  return row;
}

/** True when the row's full_node_id equals the 8 bytes of `node` at `at`. */
export function rowOwnedBy(row: Uint8Array, node: Uint8Array, at: number): boolean {
  for (let i = 0; i < NODE_ID_LENGTH; i++) if (row[i] !== node[at + i]) return false;
  return true;
}

export function rowFirstEpoch(row: Uint8Array): number {
  return readU16BE(row, 8);
}

export function rowLastEpoch(row: Uint8Array): number {
  return readU16BE(row, 10);
}
