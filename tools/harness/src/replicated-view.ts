/** The parts of `@keyledger/core` the view reads with, passed in: the harness must not depend on core (core bundles it). */
export interface ViewCore {
  REGISTRY_PREFIX: Uint8Array;
  STATE_KEY: Uint8Array;
  decodeState(bytes: Uint8Array): {
    raftAppliedIndex: bigint;
    active: { storage: number; raft: number };
    storageEnvelopeActive: boolean;
    storageEnvelopeCutoverIndex: bigint;
    raftEnvelopeCutoverIndex: bigint;
    keys: ReadonlyMap<number, { purpose: string; wrapped: Uint8Array }>;
  };
}

/** A store as the view reads it (any keyledger `RegistryStore`). */
export interface ViewStore {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  scan(prefix: Uint8Array): AsyncIterable<{ key: Uint8Array; value: Uint8Array }>;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/**
 * What must be identical on every node that applied the same log: every registry row (key and
 * value bytes) and the encryption state minus its two per-node fields — `keys[*].local_epoch`
 * (this node's own epoch counter, written by its Encryptor) and `keys[*].created` (each applier's
 * clock when it installed the key). Wrapped DEKs, active ids, envelope flags and the applied
 * index are compared as they are.
 */
export async function replicatedView(store: ViewStore, core: ViewCore): Promise<{ state: unknown; rows: string[]; applied: bigint }> {
  const raw = await store.get(core.STATE_KEY);
  if (raw === undefined) return { state: undefined, rows: [], applied: 0n };
  const s = core.decodeState(raw);
  const keys = [...s.keys].map(([id, k]) => ({ id, purpose: k.purpose, wrapped: hex(k.wrapped) }));
  const rows: string[] = [];
  for await (const { key, value } of store.scan(core.REGISTRY_PREFIX)) rows.push(`${hex(key)}=${hex(value)}`);
  const state = {
    raftAppliedIndex: s.raftAppliedIndex.toString(),
    active: s.active,
    storageEnvelopeActive: s.storageEnvelopeActive,
    storageEnvelopeCutoverIndex: s.storageEnvelopeCutoverIndex.toString(),
    raftEnvelopeCutoverIndex: s.raftEnvelopeCutoverIndex.toString(),
    keys,
  };
  return { state, rows, applied: s.raftAppliedIndex };
}
