import {
  APPLIED_KEY,
  ErrorCode,
  KeyledgerError,
  REGISTRY_PREFIX,
  STATE_KEY,
  decodeRegistryKey,
  decodeRegistryRow,
  decodeState,
  encodeAppliedIndex,
  encodeState,
  exportSidecar,
  importSidecar,
  isKeyledgerError,
  nodeId16,
  type EncryptionState,
  type KeyEntry,
  type RegistryStore,
  type StoreEntry,
} from '@keyledger/core';
import { parseSeq } from './log-keys.js';

/**
 * What a node behind the truncation point restores from: the replicated state at `index` —
 * the encryption state (wrapped DEKs only, as `keys.json` holds them) and every registry row.
 * Per-node fields are not carried: each key's `local_epoch` is written as 0, since it is the
 * snapshotting node's own counter, not the restorer's.
 */
export interface Snapshot {
  /** The log sequence number the snapshot reflects. */
  index: bigint;
  /** Entries through this number were deleted from the log when the snapshot was stored. */
  truncatedThrough: bigint;
  state: EncryptionState;
  rows: StoreEntry[];
}

const FORMAT = 1;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function malformed(message: string, cause?: unknown): KeyledgerError {
  return new KeyledgerError(ErrorCode.SNAPSHOT_MALFORMED, `ledger snapshot: ${message}`, { cause });
}

/** Reads the replicated part of `store`: call it while nothing applies. */
export async function takeSnapshot(store: RegistryStore, index: bigint, truncatedThrough: bigint): Promise<Snapshot> {
  const raw = await store.get(STATE_KEY);
  if (raw === undefined) throw malformed('the store holds no encryption state yet');
  const state = decodeState(raw);
  const keys = new Map<number, KeyEntry>();
  for (const [id, k] of state.keys) keys.set(id, { ...k, localEpoch: 0 });
  const rows: StoreEntry[] = [];
  for await (const row of store.scan(REGISTRY_PREFIX)) rows.push(row);
  return { index, truncatedThrough, state: { ...state, keys }, rows };
}

export function encodeSnapshot(s: Snapshot): string {
  return JSON.stringify({
    format: FORMAT,
    index: s.index.toString(),
    truncated_through: s.truncatedThrough.toString(),
    state: exportSidecar(s.state),
    rows: s.rows.map((r) => [hex(r.key), hex(r.value)]),
  });
}

export function decodeSnapshot(text: string): Snapshot {
  let doc: { format?: unknown; index?: unknown; truncated_through?: unknown; state?: unknown; rows?: unknown };
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw malformed('not JSON', err);
  }
  if (typeof doc !== 'object' || doc === null || doc.format !== FORMAT) throw malformed(`format must be ${FORMAT}`);
  if (typeof doc.index !== 'string' || typeof doc.truncated_through !== 'string' || typeof doc.state !== 'string') {
    throw malformed('index, truncated_through and state are required strings');
  }
  if (!Array.isArray(doc.rows)) throw malformed('rows must be an array');
  let state: EncryptionState;
  try {
    state = importSidecar(doc.state);
  } catch (err) {
    throw malformed('its state does not validate', err);
  }
  const rows = doc.rows.map((r: unknown, i: number) => {
    if (!Array.isArray(r) || typeof r[0] !== 'string' || typeof r[1] !== 'string' || !/^([0-9a-f]{2})*$/.test(r[0] + r[1])) {
      throw malformed(`rows[${i}] must be [hex key, hex value]`);
    }
    const key = new Uint8Array(Buffer.from(r[0], 'hex'));
    const value = new Uint8Array(Buffer.from(r[1], 'hex'));
    try {
      decodeRegistryKey(key);
      decodeRegistryRow(value);
    } catch (err) {
      throw malformed(`rows[${i}] is not a registry row`, isKeyledgerError(err) ? err : undefined);
    }
    return { key, value };
  });
  return {
    index: parseSeq(doc.index, 'snapshot index'),
    truncatedThrough: parseSeq(doc.truncated_through, 'truncated_through'),
    state,
    rows,
  };
}

/**
 * The puts that bring `store` to the snapshot, in one atomic write: the state, every row, and
 * the applied index. Each key's `local_epoch` is this node's own — the highest of what the store
 * held and what the snapshot's registry says this node registered — so a restore never lowers it.
 */
export async function restorePuts(store: RegistryStore, snap: Snapshot, fullNodeId: bigint): Promise<StoreEntry[]> {
  const raw = await store.get(STATE_KEY);
  const local = raw === undefined ? undefined : decodeState(raw);
  const slot = nodeId16(fullNodeId);
  const registered = new Map<number, number>();
  for (const { key, value } of snap.rows) {
    const k = decodeRegistryKey(key);
    const row = decodeRegistryRow(value);
    if (k.nodeId16 === slot && row.fullNodeId === fullNodeId) registered.set(k.dekId, row.lastSeenEpoch);
  }
  const keys = new Map<number, KeyEntry>();
  for (const [id, k] of snap.state.keys) {
    const localEpoch = Math.max(local?.keys.get(id)?.localEpoch ?? 0, registered.get(id) ?? 0);
    keys.set(id, { ...k, created: local?.keys.get(id)?.created ?? k.created, localEpoch });
  }
  return [
    { key: STATE_KEY, value: encodeState({ ...snap.state, keys }) },
    ...snap.rows,
    { key: APPLIED_KEY, value: encodeAppliedIndex(snap.index) },
  ];
}
