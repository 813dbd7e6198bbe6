import {
  ErrorCode,
  Opcode,
  RotationSubtag,
  Purpose,
  decodeEntry,
  isEncryptionOpcode,
  isKeyledgerError,
  reasonCode,
  type Registration,
} from '@keyledger/core';
import { hex } from './digest.js';

/**
 * A small pure model of docs/design.md, 'Applier' — what applying an entry must do to the registry and the
 * encryption state — to run against the real Applier. It uses core's decoder (the codecs have
 * their own pin and round-trip tests); everything after decoding is modelled here independently.
 */
export interface ModelRow {
  node: bigint;
  first: number;
  last: number;
}

export interface ModelState {
  /** `${dek}/${slot}` → row. */
  rows: Map<string, ModelRow>;
  active: { storage: number; raft: number };
  /** id → purpose and wrapped bytes (hex). */
  keys: Map<number, { purpose: 'storage' | 'raft'; wrapped: string }>;
  /** The state record's raft_applied_index: raised by bootstraps and rotations. */
  applied: bigint;
  /** The `!encryption|applied` record: raised by every entry applied with an index. */
  recorded: bigint;
  storageEnvelope: boolean;
  storageCutover: bigint;
  raftCutover: bigint;
}

export function emptyModel(): ModelState {
  return {
    rows: new Map(),
    active: { storage: 0, raft: 0 },
    keys: new Map(),
    applied: 0n,
    recorded: 0n,
    storageEnvelope: false,
    storageCutover: 0n,
    raftCutover: 0n,
  };
}

export function cloneModel(m: ModelState): ModelState {
  return { ...m, rows: new Map([...m.rows].map(([k, v]) => [k, { ...v }])), active: { ...m.active }, keys: new Map(m.keys) };
}

class Halt {
  constructor(readonly code: string) {}
}

const halt = (code: string): never => {
  throw new Halt(code);
};

export const slotKey = (dek: number, node: bigint): string => `${dek}/${Number(node & 0xffffn)}`;

function register(m: ModelState, r: Registration): void {
  const key = slotKey(r.dekId, r.fullNodeId);
  const row = m.rows.get(key);
  if (!row) {
    m.rows.set(key, { node: r.fullNodeId, first: r.localEpoch, last: r.localEpoch });
    return;
  }
  if (row.node !== r.fullNodeId) halt(ErrorCode.NODE_ID_COLLISION);
  if (r.localEpoch === row.last) return;
  if (r.localEpoch < row.last) halt(ErrorCode.LOCAL_EPOCH_ROLLBACK);
  row.last = r.localEpoch;
}

function raise(m: ModelState, index: bigint | undefined): void {
  if (index !== undefined && index > m.applied) m.applied = index;
}

/** The effective applied index: the larger of the state's and the record's (Math.max takes no bigint). */
export function appliedTop(m: ModelState): bigint {
  if (m.recorded > m.applied) return m.recorded;
  return m.applied;
}

/**
 * Applies `entry` to a copy of `m`. Returns the outcome ('ok' or the reason code) and the next
 * state; on anything but 'ok' the next state is `m` itself: a halted entry changes nothing.
 * `canUnwrap` says whether the KEK authenticates a wrapped DEK.
 */
export function applyModel(
  m: ModelState,
  entry: Uint8Array,
  index: bigint | undefined,
  canUnwrap: (wrapped: Uint8Array) => boolean,
): { outcome: string; next: ModelState } {
  // A re-delivery: an encryption entry at or below the applied index changes nothing (0n is no index).
  const top = appliedTop(m);
  if (index !== undefined && index !== 0n && index <= top && isEncryptionOpcode(entry[0]!)) return { outcome: 'already-applied', next: m };
  const n = cloneModel(m);
  try {
    let e: ReturnType<typeof decodeEntry>;
    try {
      e = decodeEntry(entry);
    } catch (err) {
      if (!isKeyledgerError(err)) throw err;
      return { outcome: reasonCode(err)!, next: m };
    }
    const unwrap = (w: Uint8Array): void => {
      if (!canUnwrap(w)) halt(ErrorCode.KEK_MISMATCH);
    };
    const addKey = (id: number, purpose: 'storage' | 'raft', wrapped: Uint8Array): void => {
      if (id === 0) halt(ErrorCode.RESERVED_KEY_ID);
      n.keys.set(id, { purpose, wrapped: hex(wrapped) });
    };
    if (e.kind === 'registration') {
      register(n, e);
    } else if (e.kind === 'bootstrap') {
      if (e.storageDekId === e.raftDekId) halt(ErrorCode.ENTRY_INVALID);
      if (e.registrations.some((r) => r.dekId !== e.storageDekId && r.dekId !== e.raftDekId)) halt(ErrorCode.ENTRY_INVALID);
      if (n.active.storage !== 0 || n.active.raft !== 0) {
        const s = n.keys.get(e.storageDekId);
        const r = n.keys.get(e.raftDekId);
        const exact =
          n.active.storage === e.storageDekId &&
          n.active.raft === e.raftDekId &&
          s?.wrapped === hex(e.storageWrapped) &&
          r?.wrapped === hex(e.raftWrapped);
        if (!exact) halt(ErrorCode.KEY_CONFLICT);
        raise(n, index);
      } else {
        unwrap(e.storageWrapped);
        unwrap(e.raftWrapped);
        addKey(e.storageDekId, 'storage', e.storageWrapped);
        addKey(e.raftDekId, 'raft', e.raftWrapped);
        n.active = { storage: e.storageDekId, raft: e.raftDekId };
        raise(n, index);
        for (const r of e.registrations) register(n, r);
      }
    } else {
      if (n.active.storage === 0 && n.active.raft === 0) halt(ErrorCode.NOT_BOOTSTRAPPED);
      if (e.proposer.dekId !== e.dekId) halt(ErrorCode.ENTRY_INVALID);
      const purpose = e.purpose === Purpose.STORAGE ? 'storage' : 'raft';
      if (e.subtag === RotationSubtag.ROTATE_DEK) {
        if (e.wrapped.length === 0) halt(ErrorCode.ENTRY_INVALID);
        const held = n.keys.get(e.dekId);
        if (held) {
          if (held.purpose !== purpose || held.wrapped !== hex(e.wrapped)) halt(ErrorCode.KEY_CONFLICT);
          raise(n, index);
        } else {
          unwrap(e.wrapped);
          addKey(e.dekId, purpose, e.wrapped);
          n.active[purpose] = e.dekId;
          raise(n, index);
          register(n, e.proposer);
        }
      } else if (e.subtag === RotationSubtag.ENABLE_STORAGE_ENVELOPE) {
        if (purpose !== 'storage' || e.wrapped.length !== 0) halt(ErrorCode.ENTRY_INVALID);
        if (e.dekId !== n.active.storage || n.storageEnvelope) raise(n, index);
        else {
          register(n, e.proposer);
          n.storageEnvelope = true;
          n.storageCutover = index ?? 0n;
          raise(n, index);
        }
      } else {
        if (purpose !== 'raft' || e.wrapped.length !== 0) halt(ErrorCode.ENTRY_INVALID);
        if (index === undefined || index === 0n) halt(ErrorCode.ENTRY_INVALID);
        if (n.raftCutover > 0n || e.dekId !== n.active.raft) raise(n, index);
        else {
          register(n, e.proposer);
          n.raftCutover = index!;
          raise(n, index);
        }
      }
    }
    if (index !== undefined && index > n.recorded) n.recorded = index;
    return { outcome: 'ok', next: n };
  } catch (err) {
    if (err instanceof Halt) return { outcome: err.code, next: m };
    throw err;
  }
}

export { Opcode };
