import { randomBytes } from 'node:crypto';
import { FileKek, Purpose, RotationSubtag, encodeBootstrap, encodeRegistration, encodeRotation } from '@keyledger/core';

/** One step of a short, complete entry sequence: an entry to apply, or a read of one DEK's writers. */
export type Step = { entry: Uint8Array; index: bigint; what: string } | { inspectDek: number; what: string };

export interface Sequence {
  kek: FileKek;
  /** The KEK's and every DEK's raw bytes, for key-hygiene assertions. */
  secrets: Uint8Array[];
  steps: Step[];
}

const node = (slot: number, high = 0xa): bigint => (BigInt(high) << 40n) | BigInt(slot);

/**
 * Bootstrap with a batch, new registrations, an advance, a replay, a storage rotation, both
 * envelope cutovers and a raft rotation after the cutover, with reads of the registry in between:
 * every kind of store call the applier and a reader make.
 */
export async function buildSequence(): Promise<Sequence> {
  const kekBytes = new Uint8Array(randomBytes(32));
  const kek = FileKek.fromBytes(kekBytes);
  const deks = [1, 2, 3, 4].map(() => new Uint8Array(randomBytes(32)));
  const wrapped = await Promise.all(deks.map((d) => kek.wrap(d)));
  const steps: Step[] = [];
  let index = 10n;
  const entry = (e: Uint8Array, what: string): void => {
    steps.push({ entry: e, index: index++, what });
  };
  entry(
    encodeBootstrap({
      storageDekId: 1,
      storageWrapped: wrapped[0]!,
      raftDekId: 2,
      raftWrapped: wrapped[1]!,
      registrations: [1, 2, 3].flatMap((s) => [1, 2].map((dekId) => ({ dekId, fullNodeId: node(s), localEpoch: 1 }))),
    }),
    'bootstrap',
  );
  steps.push({ inspectDek: 1, what: 'read DEK 1 writers' });
  entry(encodeRegistration({ dekId: 1, fullNodeId: node(4), localEpoch: 1 }), 'register new writer');
  entry(encodeRegistration({ dekId: 1, fullNodeId: node(2), localEpoch: 2 }), 'advance epoch');
  entry(encodeRegistration({ dekId: 1, fullNodeId: node(2), localEpoch: 2 }), 'replay');
  entry(
    encodeRotation({
      subtag: RotationSubtag.ROTATE_DEK,
      dekId: 3,
      purpose: Purpose.STORAGE,
      wrapped: wrapped[2]!,
      proposer: { dekId: 3, fullNodeId: node(1), localEpoch: 2 },
    }),
    'rotate storage DEK',
  );
  steps.push({ inspectDek: 3, what: 'read DEK 3 writers' });
  entry(
    encodeRotation({
      subtag: RotationSubtag.ENABLE_STORAGE_ENVELOPE,
      dekId: 3,
      purpose: Purpose.STORAGE,
      wrapped: new Uint8Array(0),
      proposer: { dekId: 3, fullNodeId: node(1), localEpoch: 2 },
    }),
    'storage envelope cutover',
  );
  entry(
    encodeRotation({
      subtag: RotationSubtag.ENABLE_RAFT_ENVELOPE,
      dekId: 2,
      purpose: Purpose.RAFT,
      wrapped: new Uint8Array(0),
      proposer: { dekId: 2, fullNodeId: node(3), localEpoch: 2 },
    }),
    'raft envelope cutover',
  );
  entry(
    encodeRotation({
      subtag: RotationSubtag.ROTATE_DEK,
      dekId: 4,
      purpose: Purpose.RAFT,
      wrapped: wrapped[3]!,
      proposer: { dekId: 4, fullNodeId: node(3), localEpoch: 3 },
    }),
    'rotate raft DEK after cutover',
  );
  entry(encodeRegistration({ dekId: 4, fullNodeId: node(5), localEpoch: 7 }), 'register on the new raft DEK');
  steps.push({ inspectDek: 4, what: 'read DEK 4 writers' });
  return { kek, secrets: [kekBytes, ...deks], steps };
}
