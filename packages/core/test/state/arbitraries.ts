import fc from 'fast-check';
import type { EncryptionState, KeyEntry, KeyPurpose } from '../../src/state/encryption-state.js';

const u64 = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  // The edges of the number/string split in the JSON encoding.
  fc.constantFrom(0n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 64n - 1n),
);

const keyEntry: fc.Arbitrary<KeyEntry> = fc.record({
  purpose: fc.constantFrom<KeyPurpose>('storage', 'raft'),
  wrapped: fc.uint8Array({ minLength: 1, maxLength: 80 }),
  created: fc.oneof(
    fc.string(),
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  ),
  localEpoch: fc.integer({ min: 0, max: 0xffff }),
});

/** Any state `validateState` accepts. */
export const validState: fc.Arbitrary<EncryptionState> = fc
  .uniqueArray(fc.tuple(fc.oneof(fc.integer({ min: 1, max: 0xffff_ffff }), fc.constantFrom(1, 0xffff_ffff)), keyEntry), {
    selector: ([id]) => id,
    maxLength: 8,
  })
  .chain((entries) => {
    const of = (p: KeyPurpose): number[] => [0, ...entries.filter(([, e]) => e.purpose === p).map(([id]) => id)];
    return fc
      .record({
        raftAppliedIndex: u64,
        storageEnvelopeCutoverIndex: u64,
        raftEnvelopeCutoverIndex: u64,
        storage: fc.constantFrom(...of('storage')),
        raft: fc.constantFrom(...of('raft')),
        envelope: fc.boolean(),
      })
      .map(
        (r): EncryptionState => ({
          version: 2,
          raftAppliedIndex: r.raftAppliedIndex,
          storageEnvelopeActive: r.envelope && r.storage !== 0,
          storageEnvelopeCutoverIndex: r.storageEnvelopeCutoverIndex,
          raftEnvelopeCutoverIndex: r.raftEnvelopeCutoverIndex,
          active: { storage: r.storage, raft: r.raft },
          keys: new Map(entries),
        }),
      );
  });
