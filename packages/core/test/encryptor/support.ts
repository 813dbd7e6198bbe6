import { expect } from 'vitest';
import { newBootstrap, newKek } from '../../src/conformance/fixtures.js';
import {
  Applier,
  type ApplierOptions,
  type ApplyResult,
  type Bootstrap,
  type Encryptor,
  type FileKek,
  MemoryRegistryStore,
  type KeyledgerErrorCode,
  Purpose,
  RotationSubtag,
  encodeBootstrap,
  encodeRotation,
  hasCode,
} from '../../src/index.js';

export const NODE_A = 0x9f3c_21d4_5e10_0a01n;
export const NODE_B = 0x0000_0002_0000_0b02n;
/** Shares NODE_A's 16-bit slot (0x0a01) with another full node id. */
export const NODE_A_TWIN = 0x7777_0000_0000_0a01n;

/** A replicated log as a host keeps it: proposing appends at the next index. */
export class Log {
  readonly entries: { index: bigint; entry: Uint8Array }[] = [];

  propose(entry: Uint8Array): bigint {
    const index = BigInt(this.entries.length + 1);
    this.entries.push({ index, entry: new Uint8Array(entry) });
    return index;
  }

  /** Applies every entry above `applier.appliedIndex`, in order, as a replica's apply loop does. */
  async catchUp(applier: Applier): Promise<ApplyResult[]> {
    const out: ApplyResult[] = [];
    for (const { index, entry } of this.entries) if (index > applier.appliedIndex) out.push(await applier.applyEntry(entry, index));
    return out;
  }

  /** Proposes a storage DEK rotation to `dekId` (its `wrapped` bytes), named by `fullNodeId` at `localEpoch`. */
  rotateDek(dekId: number, wrapped: Uint8Array, fullNodeId: bigint, localEpoch: number): bigint {
    const proposer = { dekId, fullNodeId, localEpoch };
    return this.propose(encodeRotation({ subtag: RotationSubtag.ROTATE_DEK, dekId, purpose: Purpose.STORAGE, wrapped, proposer }));
  }

  /**
   * The host's side of the gate: proposes `enc`'s registration, applies the log through
   * `applier`, then waits for `registered` on the index the proposal got, which it returns.
   */
  async register(applier: Applier, enc: Encryptor): Promise<bigint> {
    const index = this.propose(enc.registration());
    await this.catchUp(applier);
    await enc.registered(index);
    return index;
  }
}

export interface Cluster {
  kek: FileKek;
  log: Log;
  bootstrap: Bootstrap;
}

/** A log that starts with a bootstrap naming NODE_A and NODE_B at epoch 1 under both DEKs. */
export async function bootstrappedLog(patch: Partial<Bootstrap> = {}): Promise<Cluster> {
  const kek = newKek();
  const bootstrap = await newBootstrap(kek, {
    registrations: [NODE_A, NODE_B].flatMap((w) => [
      { dekId: 1, fullNodeId: w, localEpoch: 1 },
      { dekId: 2, fullNodeId: w, localEpoch: 1 },
    ]),
    ...patch,
  });
  const log = new Log();
  log.propose(encodeBootstrap(bootstrap));
  return { kek, log, bootstrap };
}

/** A replica of node `nodeId` that applied the whole log. */
export async function replica(
  cluster: Cluster,
  _nodeId: bigint,
  store = new MemoryRegistryStore(),
  options: ApplierOptions = {},
): Promise<{ store: MemoryRegistryStore; applier: Applier }> {
  const applier = await Applier.open(store, { kek: cluster.kek, ...options });
  await cluster.log.catchUp(applier);
  return { store, applier };
}

/** A deep copy of a memory store: a backup taken now. */
export async function backup(store: MemoryRegistryStore): Promise<MemoryRegistryStore> {
  const copy = new MemoryRegistryStore();
  const puts = [];
  for await (const e of store.scan(new Uint8Array(0))) puts.push(e);
  await copy.write(puts);
  return copy;
}

export async function rejectsWith(p: Promise<unknown> | (() => unknown), code: KeyledgerErrorCode): Promise<unknown> {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${code}`).toBeDefined();
  expect(hasCode(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
  return err;
}
