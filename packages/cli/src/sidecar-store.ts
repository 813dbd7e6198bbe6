import {
  APPLIED_KEY,
  REGISTRY_PREFIX,
  STATE_KEY,
  bytesEqual,
  decodeState,
  encodeAppliedIndex,
  encodeState,
  isKeyledgerError,
  registryEntries,
  sidecarWriter,
  type EncryptionState,
  type RegistryStore,
  type SidecarRegistry,
  type SidecarWriter,
  type StoreEntry,
} from '@keyledger/core';
import { readAppliedIndex } from './applied-index.js';
import { CliError } from './cli-error.js';

/** What `export-sidecar` reads from a store: the state and the complete registry. */
export interface StoreSidecar {
  state: EncryptionState;
  registry: SidecarRegistry;
}

/** Reads the state and every registry row; a damaged row is refused, since a backup must not carry it. */
export async function readStoreSidecar(store: RegistryStore, name: string): Promise<StoreSidecar | undefined> {
  const raw = await store.get(STATE_KEY);
  if (raw === undefined) return undefined;
  const state = decodeState(raw);
  const writers: SidecarWriter[] = [];
  for await (const entry of store.scan(REGISTRY_PREFIX)) {
    try {
      writers.push(sidecarWriter(entry));
    } catch (err) {
      if (!isKeyledgerError(err)) throw err;
      throw new CliError(`${name} has a damaged registry row (see keyledger inspect): refusing to export a backup that carries it`, {
        cause: err,
      });
    }
  }
  const appliedIndex = await readAppliedIndex(store, state.raftAppliedIndex);
  return { state, registry: { appliedIndex, writers } };
}

export type ImportOutcome = 'unchanged' | 'written';

export function stateSummary(s: EncryptionState): string {
  return `applied index ${s.raftAppliedIndex}, ${s.keys.size} keys, active storage DEK ${s.active.storage} and raft DEK ${s.active.raft}`;
}

/**
 * Writes state, registry rows and applied index in one atomic store write, so the store never
 * holds an applied index without the registrations it implies. A store that already holds
 * anything else is refused unless `force`; even then rows the sidecar lacks cannot be removed
 * (a store write only puts), so such a store is refused outright.
 */
export async function writeStoreSidecar(store: RegistryStore, name: string, sidecar: StoreSidecar, force: boolean): Promise<ImportOutcome> {
  const puts: StoreEntry[] = [
    { key: STATE_KEY, value: encodeState(sidecar.state) },
    ...registryEntries(sidecar.registry),
    { key: APPLIED_KEY, value: encodeAppliedIndex(sidecar.registry.appliedIndex) },
  ];
  const wanted = new Map(puts.map((p) => [Buffer.from(p.key).toString('hex'), p.value]));
  let same = true;
  let empty = true;
  for (const key of [STATE_KEY, APPLIED_KEY]) {
    const existing = await store.get(key);
    if (existing !== undefined) empty = false;
    if (existing === undefined || !bytesEqual(existing, wanted.get(Buffer.from(key).toString('hex'))!)) same = false;
  }
  const extra: string[] = [];
  let rows = 0;
  for await (const { key, value } of store.scan(REGISTRY_PREFIX)) {
    empty = false;
    rows++;
    const mine = wanted.get(Buffer.from(key).toString('hex'));
    if (mine === undefined) extra.push(Buffer.from(key).toString('hex'));
    else if (!bytesEqual(mine, value)) same = false;
  }
  if (same && extra.length === 0 && rows === sidecar.registry.writers.length) return 'unchanged';
  if (!empty && !force) {
    const raw = await store.get(STATE_KEY);
    let what = 'registry rows';
    if (raw !== undefined) {
      try {
        what = `a different state (${stateSummary(decodeState(raw))})`;
      } catch {
        what = 'a damaged state';
      }
    }
    throw new CliError(`${name} already holds ${what}: pass --force to replace it`);
  }
  if (extra.length > 0) {
    throw new CliError(
      `${name} holds ${extra.length} registry rows the sidecar does not have, which an import cannot remove: import into an empty store`,
    );
  }
  await store.write(puts);
  return 'written';
}
