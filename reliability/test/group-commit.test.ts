import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Applier,
  MemoryRegistryStore,
  encodeRegistration,
  reasonCode,
  type ApplyResult,
  type IndexedEntry,
  type RegistryStore,
} from '@keyledger/core';
import { openStore, type AdapterName } from '../src/stores.js';
import { rowsOf, tempDirs } from './support.js';

// Issue 16.1: calls made while a write is in flight are coalesced into one group. The outcome of
// every call (result, or error code, position and index) and the final store must be exactly
// those of making the same calls one by one, awaiting each.

const freshDir = tempDirs('group-commit');

/** Registrations over 2 DEKs × 3 slots × 2 nodes per slot: inserts, advances, replays, rollbacks, collisions. */
const registration = fc
  .record({
    dekId: fc.integer({ min: 1, max: 2 }),
    slot: fc.integer({ min: 0, max: 2 }),
    node: fc.integer({ min: 0, max: 1 }),
    localEpoch: fc.integer({ min: 0, max: 4 }),
  })
  .map((r) => encodeRegistration({ dekId: r.dekId, fullNodeId: (BigInt(r.node + 1) << 32n) | BigInt(r.slot), localEpoch: r.localEpoch }));
/** Mostly registrations; some host entries (not a halt) and some damaged ones (a halt). */
const entry = fc.oneof(
  { weight: 8, arbitrary: registration },
  { weight: 1, arbitrary: fc.constant(new Uint8Array([0x01, 0x02])) },
  { weight: 1, arbitrary: fc.constant(new Uint8Array([0x03, 0x01, 0x00])) },
);
/** Indexes that mostly rise, sometimes repeat an earlier one (a re-delivery), sometimes are absent. */
const index = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 40 }).map(BigInt) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);
const item = fc.record({ entry, index }) as fc.Arbitrary<IndexedEntry>;
type Call = { one: IndexedEntry } | { many: IndexedEntry[] };
const call: fc.Arbitrary<Call> = fc.oneof(
  { weight: 3, arbitrary: item.map((one) => ({ one })) },
  { weight: 1, arbitrary: fc.array(item, { maxLength: 4 }).map((many) => ({ many })) },
);

function make(a: Applier, c: Call): Promise<ApplyResult | ApplyResult[]> {
  return 'one' in c ? a.applyEntry(c.one.entry, c.one.index) : a.applyEntries(c.many);
}

function outcome(p: Promise<ApplyResult | ApplyResult[]>): Promise<string> {
  const show = (v: unknown) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x));
  return p.then(
    (r) => show(r),
    (e: { code?: string; position?: number; index?: bigint }) =>
      show({ code: e.code, reason: reasonCode(e), position: e.position, index: e.index }),
  );
}

async function run(
  store: RegistryStore,
  calls: Call[],
  pipelined: boolean,
): Promise<{ outcomes: string[]; rows: string; applied: bigint }> {
  const a = await Applier.open(store);
  let outcomes: string[];
  if (pipelined) {
    outcomes = await Promise.all(calls.map((c) => outcome(make(a, c))));
  } else {
    outcomes = [];
    for (const c of calls) outcomes.push(await outcome(make(a, c)));
  }
  const applied = a.appliedIndex;
  await a.close();
  return { outcomes, rows: await rowsOf(store), applied };
}

const backends: [string, () => Promise<RegistryStore>][] = [
  ['memory', async () => new MemoryRegistryStore()],
  ...(['sqlite', 'lmdb'] as AdapterName[]).map((name): [string, () => Promise<RegistryStore>] => [name, () => openStore(name, freshDir())]),
];

describe.each(backends)('automatic group commit on %s', (name, open) => {
  it('pipelined calls give exactly the outcomes and the store of sequential calls', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(call, { minLength: 1, maxLength: 40 }), async (calls) => {
        const seqStore = await open();
        const pipeStore = await open();
        try {
          const sequential = await run(seqStore, calls, false);
          const pipelined = await run(pipeStore, calls, true);
          expect(pipelined.outcomes).toEqual(sequential.outcomes);
          expect(pipelined.rows).toBe(sequential.rows);
          expect(pipelined.applied).toBe(sequential.applied);
        } finally {
          await seqStore.close();
          await pipeStore.close();
        }
      }),
      { numRuns: name === 'memory' ? 300 : 40 },
    );
  });
});
