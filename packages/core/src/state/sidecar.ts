/**
 * Export to and import from elastickv's `keys.json` sidecar: the same document as the stored
 * record (see `encryption-state.ts`, where the mapping lives), pretty-printed for people.
 *
 * A keyledger sidecar may also carry the writer registry under one extra top-level field,
 * `keyledger_registry`. elastickv's reader decodes `keys.json` with a plain `json.Unmarshal`
 * into its `Sidecar` struct, which ignores fields it does not name, so the file stays readable
 * by elastickv; the version-2 fields themselves are unchanged. A state restored without its
 * registry would hold an applied index whose registrations it lacks and would accept a
 * rolled-back epoch or a colliding slot (docs/design.md, section 'Restoring a replica').
 */

import { decodeRegistryKey, encodeRegistryKey, formatNodeId, nodeId16 } from '../codec/registry-key.js';
import { decodeRegistryRow, encodeRegistryRow, type RegistryRow } from '../codec/registry-row.js';
import { ErrorCode, KeyledgerError } from '../errors.js';
import type { StoreEntry } from '../store/registry-store.js';
import { stateFromJson, stateToDocument, type EncryptionState } from './encryption-state.js';

/** The top-level field a keyledger sidecar carries the writer registry in. */
export const SIDECAR_REGISTRY_FIELD = 'keyledger_registry';

/** The writer registry as a sidecar carries it: every row, complete up to `appliedIndex`. */
export interface SidecarRegistry {
  /** u64: the applied index the rows are complete up to; never below the state's `raftAppliedIndex`. */
  appliedIndex: bigint;
  /** Every registry row, as the store holds it: `(dekId, low 16 bits of fullNodeId)` is its key. */
  writers: readonly SidecarWriter[];
}

/** One registry row with the DEK it belongs to. */
export interface SidecarWriter extends RegistryRow {
  dekId: number;
}

/** What a sidecar holds: the state, and the registry when a keyledger export wrote one. */
export interface SidecarContents {
  state: EncryptionState;
  registry: SidecarRegistry | undefined;
}

const U16_MAX = 0xffff;
const U32_MAX = 0xffff_ffff;
const WRITER_FIELDS = ['dek_id', 'node_id', 'first_epoch', 'last_epoch'] as const;
const REGISTRY_FIELDS = ['applied_index', 'writers'] as const;

function malformed(message: string): KeyledgerError {
  return new KeyledgerError(ErrorCode.STATE_MALFORMED, `sidecar ${SIDECAR_REGISTRY_FIELD}: ${message}`);
}

function u64ToJson(v: bigint): number | string {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

function writerKey(w: SidecarWriter): string {
  return `${w.dekId}|${nodeId16(w.fullNodeId)}`;
}

/** Throws unless the registry fits the state: ranges, one row per slot, an index not below the state's. */
function validateRegistry(registry: SidecarRegistry, state: EncryptionState): void {
  if (typeof registry.appliedIndex !== 'bigint' || registry.appliedIndex < 0n || registry.appliedIndex >= 2n ** 64n) {
    throw malformed('applied_index must be a u64');
  }
  if (registry.appliedIndex < state.raftAppliedIndex) {
    throw malformed(`applied_index ${registry.appliedIndex} is below the state's raft_applied_index ${state.raftAppliedIndex}`);
  }
  const seen = new Set<string>();
  for (const [i, w] of registry.writers.entries()) {
    const isU = (v: unknown, max: number) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
    if (!isU(w.dekId, U32_MAX)) throw malformed(`writers[${i}].dek_id must be a u32`);
    if (typeof w.fullNodeId !== 'bigint' || w.fullNodeId < 0n || w.fullNodeId >= 2n ** 64n) {
      throw malformed(`writers[${i}].node_id must be a u64`);
    }
    if (!isU(w.firstSeenEpoch, U16_MAX)) throw malformed(`writers[${i}].first_epoch must be a u16`);
    if (!isU(w.lastSeenEpoch, U16_MAX)) throw malformed(`writers[${i}].last_epoch must be a u16`);
    const key = writerKey(w);
    // Two rows for one slot cannot both be stored: the second would silently replace the first.
    if (seen.has(key)) throw malformed(`writers[${i}] names DEK ${w.dekId} slot ${nodeId16(w.fullNodeId)} a second time`);
    seen.add(key);
  }
}

/**
 * The state as a version-2 `keys.json` document: two-space indented JSON with a trailing
 * newline, fields in the fixed record order. With `registry`, the writer rows follow under
 * `keyledger_registry` (sorted by DEK and slot), which elastickv ignores. Throws
 * `ERR_STATE_MALFORMED` for an invalid state or registry.
 *
 * @example
 * ```ts
 * await writeFile('keys.json', exportSidecar(applier.state), { mode: 0o600 });
 * ```
 */
export function exportSidecar(state: EncryptionState, registry?: SidecarRegistry): string {
  const doc: Record<string, unknown> = { ...stateToDocument(state) };
  if (registry !== undefined) {
    validateRegistry(registry, state);
    const writers = [...registry.writers].sort((a, b) => a.dekId - b.dekId || nodeId16(a.fullNodeId) - nodeId16(b.fullNodeId));
    doc[SIDECAR_REGISTRY_FIELD] = {
      applied_index: u64ToJson(registry.appliedIndex),
      writers: writers.map((w) => ({
        dek_id: w.dekId,
        node_id: formatNodeId(w.fullNodeId),
        first_epoch: w.firstSeenEpoch,
        last_epoch: w.lastSeenEpoch,
      })),
    };
  }
  return `${JSON.stringify(doc, null, 2)}\n`;
}

function readFieldObject(v: unknown, field: string, allowed: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed(`${field} must be a JSON object`);
  const o = v as Record<string, unknown>;
  for (const name of Object.keys(o))
    if (!allowed.includes(name)) throw malformed(`${field} has unknown field ${JSON.stringify(name.slice(0, 64))}`);
  for (const name of allowed) if (!Object.hasOwn(o, name)) throw malformed(`missing field ${field}.${name}`);
  return o;
}

function readRegistry(raw: unknown): { appliedIndex: bigint; writers: SidecarWriter[] } {
  const o = readFieldObject(raw, 'document', REGISTRY_FIELDS);
  const index = o.applied_index;
  let appliedIndex: bigint;
  if (typeof index === 'number' && Number.isSafeInteger(index) && index >= 0) appliedIndex = BigInt(index);
  else if (typeof index === 'string' && /^(0|[1-9][0-9]{0,19})$/.test(index) && BigInt(index) < 2n ** 64n) appliedIndex = BigInt(index);
  else throw malformed('applied_index must be a u64 (a number up to 2^53-1 or a decimal string)');
  if (!Array.isArray(o.writers)) throw malformed('writers must be a JSON array');
  const writers = o.writers.map((w: unknown, i): SidecarWriter => {
    const f = readFieldObject(w, `writers[${i}]`, WRITER_FIELDS);
    if (typeof f.node_id !== 'string' || !/^0x[0-9a-f]{16}$/.test(f.node_id)) {
      throw malformed(`writers[${i}].node_id must be "0x" and 16 lowercase hex digits`);
    }
    return {
      dekId: f.dek_id as number,
      fullNodeId: BigInt(f.node_id),
      firstSeenEpoch: f.first_epoch as number,
      lastSeenEpoch: f.last_epoch as number,
    };
  });
  return { appliedIndex, writers };
}

/**
 * Reads a `keys.json` document (version 1 or 2, see {@link importSidecar}) and the writer
 * registry a keyledger export carries with it; `registry` is `undefined` for a sidecar written
 * by elastickv or by an older keyledger. Throws `ERR_STATE_MALFORMED` naming the field or rule
 * that failed.
 */
export function readSidecar(json: string): SidecarContents {
  if (typeof json !== 'string') throw new KeyledgerError(ErrorCode.STATE_MALFORMED, 'encryption state: input must be JSON text');
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    // As in stateFromJson: the parser's message may quote wrapped DEKs.
    throw new KeyledgerError(ErrorCode.STATE_MALFORMED, 'encryption state: not valid JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || !Object.hasOwn(doc, SIDECAR_REGISTRY_FIELD)) {
    return { state: stateFromJson(json, { acceptVersion1: true }), registry: undefined };
  }
  const { [SIDECAR_REGISTRY_FIELD]: raw, ...rest } = doc as Record<string, unknown>;
  const state = stateFromJson(JSON.stringify(rest), { acceptVersion1: true });
  const registry = readRegistry(raw);
  validateRegistry(registry, state);
  return { state, registry };
}

/**
 * Reads a `keys.json` document of version 2, or of version 1, whose `storage_envelope_active`,
 * `storage_envelope_cutover_index` and `raft_envelope_cutover_index` may be absent (they default
 * to false, 0 and 0). The result is always a version-2 state. A `keyledger_registry` field is
 * validated and left out: {@link readSidecar} returns it. Throws `ERR_STATE_MALFORMED` naming
 * the field or rule that failed.
 */
export function importSidecar(json: string): EncryptionState {
  return readSidecar(json).state;
}

/** The registry rows a sidecar carries, as the store entries they are written as. */
export function registryEntries(registry: SidecarRegistry): StoreEntry[] {
  return registry.writers.map((w) => ({ key: encodeRegistryKey(w.dekId, nodeId16(w.fullNodeId)), value: encodeRegistryRow(w) }));
}

/**
 * The sidecar writer for one stored registry row. Throws `ERR_REGISTRY_KEY_MALFORMED` or
 * `ERR_REGISTRY_VALUE_MALFORMED` for a damaged row: a backup must not carry damage silently.
 */
export function sidecarWriter(entry: StoreEntry): SidecarWriter {
  const { dekId, nodeId16: slot } = decodeRegistryKey(entry.key);
  const row = decodeRegistryRow(entry.value);
  if (nodeId16(row.fullNodeId) !== slot) {
    throw new KeyledgerError(
      ErrorCode.REGISTRY_VALUE_MALFORMED,
      `registry row of DEK ${dekId} slot ${slot} holds a node id whose slot is ${nodeId16(row.fullNodeId)}`,
    );
  }
  return { dekId, ...row };
}
