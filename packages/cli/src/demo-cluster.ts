import {
  Purpose,
  RotationSubtag,
  encodeBootstrap,
  encodeRegistration,
  encodeRotation,
  type Kek,
  type KeyledgerErrorCode,
  type Registration,
  wrapFreshDek,
} from '@keyledger/core';

/**
 * The demo's cluster: three nodes with fixed 64-bit ids, and a fourth whose low 16 bits (its
 * nonce slot) equal n2's. Fixed ids make every run, on every backend, produce the same registry.
 */
export const NODES = {
  n1: 0x9f3c21d45e100a01n,
  n2: 0x41b788e2c3d90b02n,
  n3: 0xd20e6f451a7c0c03n,
  n4: 0x77aa123456780b02n,
} as const;
export type NodeName = keyof typeof NODES;

/** DEK ids: 1 and 2 from the bootstrap, 3 from the storage rotation. */
export const DEKS = { storage: 1, raft: 2, rotatedStorage: 3 } as const;

/** The fixed clock for `created`, so that demo states differ only in the wrapped bytes. */
export const DEMO_EPOCH_MS = Date.UTC(2025, 0, 1);

/** The demo's clock: one minute per raft index from 2025-01-01. The log carries it as `time`. */
export function demoTime(index: bigint): Date {
  return new Date(DEMO_EPOCH_MS + Number(index) * 60_000);
}

export interface LogEntry {
  index: bigint;
  entry: Uint8Array;
}

/** One narrated step of the demo. */
export type DemoStep =
  | { kind: 'apply'; title: string; entries: LogEntry[] }
  /** Close the store and the applier, reopen both: the keystore is rebuilt from the state. */
  | { kind: 'restart'; title: string }
  /** Re-apply entries already applied, as Raft does after a restart. */
  | { kind: 'replay'; title: string; entries: LogEntry[] }
  /** An entry that must halt with `expect`, leaving the state as it was. */
  | { kind: 'halt'; title: string; entries: LogEntry[]; expect: KeyledgerErrorCode };

export interface DemoScenario {
  steps: DemoStep[];
  /** Every entry once, in index order: what `replay` applies. */
  log: LogEntry[];
}

const reg = (node: NodeName, dekId: number, localEpoch: number): Registration => ({ dekId, fullNodeId: NODES[node], localEpoch });

/**
 * Builds the demo log for a 3-node cluster. Raft indices have gaps where the host's own entries
 * would be; only encryption entries are in the log. The DEKs are fresh random keys, wrapped with
 * `kek` and then zeroed: only wrapped bytes ever leave this function.
 */
export async function buildDemoScenario(kek: Kek): Promise<DemoScenario> {
  const at = (index: number, entry: Uint8Array): LogEntry => ({ index: BigInt(index), entry });
  const registration = (index: number, node: NodeName, dekId: number, epoch: number): LogEntry =>
    at(index, encodeRegistration(reg(node, dekId, epoch)));
  const { storage, raft, rotatedStorage } = DEKS;

  const bootstrap = at(
    1,
    encodeBootstrap({
      storageDekId: storage,
      storageWrapped: await wrapFreshDek(kek),
      raftDekId: raft,
      raftWrapped: await wrapFreshDek(kek),
      registrations: (['n1', 'n2', 'n3'] as const).flatMap((n) => [reg(n, storage, 1), reg(n, raft, 1)]),
    }),
  );
  const n2Restart = [registration(9, 'n2', storage, 2), registration(10, 'n2', raft, 2)];
  const n3Restart = [registration(14, 'n3', storage, 2), registration(15, 'n3', raft, 2)];
  const rotate = at(
    21,
    encodeRotation({
      subtag: RotationSubtag.ROTATE_DEK,
      dekId: rotatedStorage,
      purpose: Purpose.STORAGE,
      wrapped: await wrapFreshDek(kek),
      proposer: reg('n1', rotatedStorage, 1),
    }),
  );
  const joinNewDek = [registration(22, 'n2', rotatedStorage, 2), registration(23, 'n3', rotatedStorage, 2)];
  const cutover = (index: number, subtag: RotationSubtag, dekId: number, purpose: Purpose): LogEntry =>
    at(index, encodeRotation({ subtag, dekId, purpose, wrapped: new Uint8Array(0), proposer: reg('n1', dekId, 1) }));
  const storageEnvelope = cutover(27, RotationSubtag.ENABLE_STORAGE_ENVELOPE, rotatedStorage, Purpose.STORAGE);
  const raftEnvelope = cutover(28, RotationSubtag.ENABLE_RAFT_ENVELOPE, raft, Purpose.RAFT);
  const n1Restart = [registration(31, 'n1', rotatedStorage, 2), registration(32, 'n1', raft, 2)];
  const rollback = registration(35, 'n3', rotatedStorage, 1);
  const collision = registration(36, 'n4', rotatedStorage, 1);

  const steps: DemoStep[] = [
    {
      kind: 'apply',
      title: 'bootstrap: storage DEK 1 and raft DEK 2 (wrapped with the KEK); n1, n2, n3 register epoch 1 under both',
      entries: [bootstrap],
    },
    { kind: 'apply', title: 'n2 restarts with local epoch 2 and registers it under DEK 1 and DEK 2', entries: n2Restart },
    { kind: 'apply', title: 'n3 restarts with local epoch 2 and registers it under DEK 1 and DEK 2', entries: n3Restart },
    { kind: 'restart', title: 'this replica restarts: store reopened, keystore rebuilt from the wrapped DEKs with the KEK' },
    { kind: 'replay', title: 'Raft re-delivers the entries after its last snapshot (index 8)', entries: [...n2Restart, ...n3Restart] },
    { kind: 'apply', title: 'storage DEK rotated: DEK 3 becomes the active storage key, proposed by n1 at epoch 1', entries: [rotate] },
    { kind: 'apply', title: 'n2 and n3 start writing under DEK 3 at their epoch 2', entries: joinNewDek },
    { kind: 'apply', title: 'storage envelope cutover on DEK 3', entries: [storageEnvelope] },
    { kind: 'apply', title: 'raft envelope cutover on DEK 2', entries: [raftEnvelope] },
    { kind: 'apply', title: 'n1 restarts with local epoch 2 and registers it under DEK 3 and DEK 2', entries: n1Restart },
    {
      kind: 'halt',
      title: 'n3 comes back from an old disk image and registers epoch 1 under DEK 3',
      entries: [rollback],
      expect: 'ERR_LOCAL_EPOCH_ROLLBACK',
    },
    {
      kind: 'halt',
      title: `new node n4 (0x${NODES.n4.toString(16)}) registers under DEK 3; its slot 0x0b02 is n2's`,
      entries: [collision],
      expect: 'ERR_NODE_ID_COLLISION',
    },
  ];
  const log = [
    bootstrap,
    ...n2Restart,
    ...n3Restart,
    rotate,
    ...joinNewDek,
    storageEnvelope,
    raftEnvelope,
    ...n1Restart,
    rollback,
    collision,
  ];
  return { steps, log };
}
