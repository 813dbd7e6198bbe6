import {
  REGISTRY_PREFIX,
  STATE_KEY,
  decodeRegistryKey,
  decodeRegistryRow,
  decodeState,
  type EncryptionState,
  type KeyPurpose,
  type RegistryStore,
} from '@keyledger/core';
import { hex, printable, renderTable, type Colors } from './output.js';

/** One writer slot of one DEK, as the registry row records it. */
export interface WriterRow {
  slot: number;
  nodeId: bigint;
  firstEpoch: number;
  lastEpoch: number;
}

/** A DEK named by the state, the registry, or both, with its writers in slot order. */
export interface DekReport {
  dekId: number;
  /** From the state; null for a DEK the registry names but the state does not hold. */
  purpose: KeyPurpose | null;
  active: boolean;
  created: string | null;
  writers: WriterRow[];
}

/** What a store holds, without any key bytes: wrapped DEKs are deliberately left out. */
export interface StoreReport {
  /** Undefined for a store that has applied no bootstrap. */
  state: EncryptionState | undefined;
  deks: DekReport[];
  /** Registry rows that do not decode. A damaged row halts the next registration of its slot. */
  problems: string[];
}

/** Reads the state record and every registry row; throws ERR_STATE_MALFORMED for a damaged state. */
export async function readReport(store: RegistryStore): Promise<StoreReport> {
  const raw = await store.get(STATE_KEY);
  const state = raw === undefined ? undefined : decodeState(raw);
  const writers = new Map<number, WriterRow[]>();
  const problems: string[] = [];
  for await (const { key, value } of store.scan(REGISTRY_PREFIX)) {
    let dekId: number;
    let slot: number;
    try {
      ({ dekId, nodeId16: slot } = decodeRegistryKey(key));
    } catch {
      problems.push(`registry key ${Buffer.from(key).toString('hex')} is not 27 bytes of registry shape`);
      continue;
    }
    try {
      const row = decodeRegistryRow(value);
      if (!writers.has(dekId)) writers.set(dekId, []);
      writers.get(dekId)!.push({ slot, nodeId: row.fullNodeId, firstEpoch: row.firstSeenEpoch, lastEpoch: row.lastSeenEpoch });
    } catch {
      problems.push(`DEK ${dekId} slot ${hex(slot, 4)}: row is ${value.length} bytes, not 12`);
    }
  }
  const ids = new Set<number>([...(state?.keys.keys() ?? []), ...writers.keys()]);
  const deks = [...ids]
    .sort((a, b) => a - b)
    .map((dekId): DekReport => {
      const key = state?.keys.get(dekId);
      return {
        dekId,
        purpose: key?.purpose ?? null,
        active: state !== undefined && (state.active.storage === dekId || state.active.raft === dekId),
        created: key?.created ?? null,
        writers: writers.get(dekId) ?? [],
      };
    });
  return { state, deks, problems };
}

const u64 = (v: bigint): string => v.toString();

/**
 * The `inspect --json` document. u64 values (indices) are decimal strings, node ids 0x-hex
 * strings, so no value loses precision in a JSON parser.
 */
export function reportToJson(report: StoreReport, store: string): Record<string, unknown> {
  const s = report.state;
  return {
    store,
    state:
      s === undefined
        ? null
        : {
            raft_applied_index: u64(s.raftAppliedIndex),
            active: { storage: s.active.storage, raft: s.active.raft },
            storage_envelope_active: s.storageEnvelopeActive,
            storage_envelope_cutover_index: u64(s.storageEnvelopeCutoverIndex),
            raft_envelope_cutover_index: u64(s.raftEnvelopeCutoverIndex),
          },
    deks: report.deks.map((d) => ({
      dek_id: d.dekId,
      purpose: d.purpose,
      active: d.active,
      created: d.created,
      writers: d.writers.map((w) => ({ slot: w.slot, node_id: hex(w.nodeId, 16), first_epoch: w.firstEpoch, last_epoch: w.lastEpoch })),
    })),
    problems: report.problems,
  };
}

function envelope(active: boolean, cutover: bigint): string {
  return active ? `on since raft index ${cutover}` : 'off';
}

/** The state summary: indices, active ids, cutovers, key list. Never key bytes. */
export function renderState(report: StoreReport, store: string, c: Colors): string {
  const s = report.state;
  const rows: [string, string][] = [['store', printable(store)]];
  if (s === undefined) {
    rows.push(['state', c.yellow('not bootstrapped (no encryption state yet)')]);
  } else {
    rows.push(['applied', `raft index ${s.raftAppliedIndex}`]);
    rows.push(['active', `storage DEK ${s.active.storage} · raft DEK ${s.active.raft}`]);
    rows.push([
      'envelopes',
      `storage ${envelope(s.storageEnvelopeActive, s.storageEnvelopeCutoverIndex)} · raft ${envelope(s.raftEnvelopeCutoverIndex > 0n, s.raftEnvelopeCutoverIndex)}`,
    ]);
    const keys = [...s.keys.entries()].map(
      ([id, k]) => `${id} ${k.purpose}${report.deks.find((d) => d.dekId === id)?.active ? ' (active)' : ''}`,
    );
    rows.push(['keys', keys.join(' · ')]);
  }
  const writers = report.deks.reduce((n, d) => n + d.writers.length, 0);
  rows.push(['writers', `${writers} across ${report.deks.filter((d) => d.writers.length > 0).length} DEKs`]);
  return rows.map(([k, v]) => `${c.bold(k.padEnd(10))} ${v}`).join('\n');
}

/** One table per DEK: slot, full node id, first and last epoch. */
export function renderWriters(report: StoreReport, c: Colors): string {
  const parts: string[] = [];
  for (const d of report.deks) {
    const label = [
      `DEK ${d.dekId}`,
      d.purpose ?? 'not in the state',
      d.purpose === null ? undefined : d.active ? c.green('active') : c.dim('retired'),
      // `created` is whatever string the state holds (an imported keys.json may hold anything).
      d.created === null ? undefined : `created ${printable(d.created)}`,
    ].filter((x) => x !== undefined);
    parts.push(c.bold(label.join(' · ')));
    if (d.writers.length === 0) {
      parts.push(c.dim('  no writers registered'));
      continue;
    }
    parts.push(
      renderTable(
        ['slot', 'node id', 'first epoch', 'last epoch'].map((h) => c.bold(h)),
        d.writers.map((w) => [hex(w.slot, 4), hex(w.nodeId, 16), String(w.firstEpoch), String(w.lastEpoch)]),
        ['left', 'left', 'right', 'right'],
      ),
    );
  }
  if (report.deks.length === 0) parts.push(c.dim('no DEKs and no writers'));
  for (const p of report.problems) parts.push(c.red(`damaged: ${p}`));
  return parts.join('\n');
}
