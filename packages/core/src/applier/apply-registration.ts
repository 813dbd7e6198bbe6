import { readU16BE, readU32BE } from '../bytes.js';
import { REGISTRY_KEY_LENGTH, REGISTRY_PREFIX, encodeRegistryKey, registryKey } from '../codec/registry-key.js';
import { REGISTRY_ROW_LENGTH, decodeRegistryRow } from '../codec/registry-row.js';
import { REGISTRATION_BODY_LENGTH, checkRegistration, decodeRegistration, type Registration } from '../codec/registration.js';
import { Opcode, WIRE_VERSION } from '../codec/wire.js';
import { ErrorCode, KeyledgerError } from '../errors.js';
import { rowId, type RowId, type RowTxn } from './apply-txn.js';

/** What a registration did to its slot. */
export type RegistrationEffect = 'inserted' | 'replayed' | 'advanced';

// Byte offsets, from the layouts in codec/registration.ts and codec/registry-key.ts. Working on
// the bytes lets a group apply registrations without a bigint, a DataView or an object per entry;
// test/applier/registration-bytes.test.ts pins these helpers against the codecs.
const ENTRY_LENGTH = 1 + REGISTRATION_BODY_LENGTH;
const ENTRY_DEK_AT = 2;
const ENTRY_NODE_AT = 6;
/** node_id16 is the low 16 bits of full_node_id: its last two bytes. */
const ENTRY_SLOT_AT = 12;
const ENTRY_EPOCH_AT = 14;
const KEY_DEK_AT = REGISTRY_PREFIX.length;
const KEY_SLOT_AT = REGISTRY_KEY_LENGTH - 2;
/** prefix ‖ dek 0 ‖ `|` ‖ slot 0, from the codec: a registration's key is this with its dek_id and slot patched in. */
const KEY_TEMPLATE = encodeRegistryKey(0, 0);
const NODE_ID_LENGTH = 8;

/**
 * True for exactly the entries `decodeRegistration` accepts: a Uint8Array of 16 bytes with
 * opcode 0x03 and version 0x01 (any 16 such bytes are a valid registration). Anything else goes
 * through `decodeEntry`, which raises the precise error.
 */
export function isWellFormedRegistration(entry: unknown): entry is Uint8Array {
  return entry instanceof Uint8Array && entry.length === ENTRY_LENGTH && entry[0] === Opcode.REGISTRATION && entry[1] === WIRE_VERSION;
}

/** `rowId(registrationKey(entry))`, straight from the entry's bytes. */
export function registrationRowId(entry: Uint8Array): number {
  return readU32BE(entry, ENTRY_DEK_AT) * 0x10000 + readU16BE(entry, ENTRY_SLOT_AT);
}

/** The registry key of a well-formed registration entry: (dek_id, node_id16 of full_node_id). */
export function registrationKey(entry: Uint8Array): Uint8Array {
  const key = new Uint8Array(KEY_TEMPLATE);
  key[KEY_DEK_AT] = entry[ENTRY_DEK_AT]!;
  key[KEY_DEK_AT + 1] = entry[ENTRY_DEK_AT + 1]!;
  key[KEY_DEK_AT + 2] = entry[ENTRY_DEK_AT + 2]!;
  key[KEY_DEK_AT + 3] = entry[ENTRY_DEK_AT + 3]!;
  key[KEY_SLOT_AT] = entry[ENTRY_SLOT_AT]!;
  key[KEY_SLOT_AT + 1] = entry[ENTRY_SLOT_AT + 1]!;
  return key;
}

/** A registry row: the 8 bytes of full_node_id at `node[at..]`, then first and last epoch. */
function encodeRow(node: Uint8Array, at: number, first: number, last: number): Uint8Array {
  const row = new Uint8Array(REGISTRY_ROW_LENGTH);
  for (let i = 0; i < NODE_ID_LENGTH; i++) row[i] = node[at + i]!;
  row[8] = first >>> 8;
  row[9] = first & 0xff;
  row[10] = last >>> 8;
  row[11] = last & 0xff;
  return row;
}

function sameNode(row: Uint8Array, node: Uint8Array, at: number): boolean {
  for (let i = 0; i < NODE_ID_LENGTH; i++) if (row[i] !== node[at + i]) return false;
  return true;
}

function isThenable<T>(v: unknown): v is PromiseLike<T> {
  return typeof (v as { then?: unknown } | undefined)?.then === 'function';
}

function hex64(v: bigint): string {
  return `0x${v.toString(16).padStart(16, '0')}`;
}

/**
 * The rules of docs/design.md, 'Registration rule', on the stored row. The order of the checks is the contract: a collision
 * is reported before any epoch comparison, and a malformed row is never read as missing — either
 * mistake would let two writers, or one writer twice, draw the same nonces. `node[at..at+8]` is
 * the registration's full_node_id; `describe` decodes the registration, for error messages only.
 */
function decide(
  txn: RowTxn,
  id: RowId,
  key: Uint8Array,
  node: Uint8Array,
  at: number,
  epoch: number,
  stored: Uint8Array | undefined,
  describe: () => Registration,
): RegistrationEffect {
  // 1. No row: the slot is free for this node.
  if (stored === undefined) {
    txn.putRow(id, key, encodeRow(node, at, epoch, epoch));
    return 'inserted';
  }
  // 2. A damaged row halts (decodeRegistryRow raises ERR_REGISTRY_VALUE_MALFORMED).
  if (!(stored instanceof Uint8Array) || stored.length !== REGISTRY_ROW_LENGTH) decodeRegistryRow(stored);
  // 3. Another node owns the 16-bit slot.
  if (!sameNode(stored, node, at)) {
    const row = decodeRegistryRow(stored);
    const reg = describe();
    throw new KeyledgerError(
      ErrorCode.NODE_ID_COLLISION,
      `slot ${row.fullNodeId & 0xffffn} of DEK ${reg.dekId} is owned by node ${hex64(row.fullNodeId)}; node ${hex64(reg.fullNodeId)} cannot register it`,
    );
  }
  const last = readU16BE(stored, 10);
  // 4. Same epoch: a Raft replay of an applied entry.
  if (epoch === last) return 'replayed';
  // 5. Epoch went backwards: the node would restart its write counter under a used epoch.
  if (epoch < last) {
    const reg = describe();
    throw new KeyledgerError(
      ErrorCode.LOCAL_EPOCH_ROLLBACK,
      `node ${hex64(reg.fullNodeId)} registered epoch ${epoch} for DEK ${reg.dekId}, below its last seen epoch ${last}`,
    );
  }
  // 6. Epoch advanced: keep first, raise last.
  txn.putRow(id, key, encodeRow(stored, 0, readU16BE(stored, 8), epoch));
  return 'advanced';
}

/**
 * Applies a well-formed registration entry (see {@link isWellFormedRegistration}) straight from
 * its bytes; `id` and `key` are its {@link registrationRowId} and {@link registrationKey}.
 * Synchronous when the transaction already knows the row (the applier prefetches a group's rows).
 */
export function applyRegistrationEntry(
  txn: RowTxn,
  entry: Uint8Array,
  id: number,
  key: Uint8Array,
): RegistrationEffect | Promise<RegistrationEffect> {
  const epoch = readU16BE(entry, ENTRY_EPOCH_AT);
  const describe = () => decodeRegistration(entry);
  const stored = txn.readRow(key, id);
  if (isThenable<Uint8Array | undefined>(stored))
    return Promise.resolve(stored).then((s) => decide(txn, id, key, entry, ENTRY_NODE_AT, epoch, s, describe));
  return decide(txn, id, key, entry, ENTRY_NODE_AT, epoch, stored, describe);
}

/**
 * Applies one writer registration (docs/design.md, 'Registration rule'), as bootstrap batches and rotation proposers carry
 * them. Same rules, same order, as {@link applyRegistrationEntry}.
 */
export function applyRegistration(txn: RowTxn, reg: Registration): RegistrationEffect | Promise<RegistrationEffect> {
  const key = registryKey(reg.dekId, reg.fullNodeId);
  const r = checkRegistration(reg);
  const node = new Uint8Array(NODE_ID_LENGTH);
  new DataView(node.buffer).setBigUint64(0, r.fullNodeId);
  const id = rowId(key);
  const describe = () => r;
  const stored = txn.readRow(key, id);
  if (isThenable<Uint8Array | undefined>(stored))
    return Promise.resolve(stored).then((s) => decide(txn, id, key, node, 0, r.localEpoch, s, describe));
  return decide(txn, id, key, node, 0, r.localEpoch, stored, describe);
}
