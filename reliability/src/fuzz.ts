import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  Applier,
  FileKek,
  MemoryRegistryStore,
  REGISTRY_PREFIX,
  RotationSubtag,
  decodeRegistryKey,
  decodeRegistryRow,
  encodeBootstrap,
  encodeRegistration,
  encodeRotation,
  isKeyledgerError,
  reasonCode,
  type ApplyResult,
  type RegistryStore,
  type StoreEntry,
} from '@keyledger/core';
import { hex } from './digest.js';
import { errorText, leaks } from './key-hygiene.js';
import { wrapDeterministic } from './log-generator.js';
import { appliedTop, applyModel, cloneModel, emptyModel, slotKey, type ModelRow, type ModelState } from './model.js';
import { FIXED_CLOCK } from './reference.js';

/** What a resolved apply answers: 'already-applied' for a re-delivery, else 'ok'. */
const answerOf = (r: ApplyResult | ApplyResult[]): string => (!Array.isArray(r) && r.kind === 'already-applied' ? r.kind : 'ok');
import { Rng } from './rng.js';
import { openStore, type AdapterName } from './stores.js';

// Test key material, fixed so that every counterexample replays exactly from its seed.
const rng = new Rng(0xf022);
export const FUZZ_KEK = rng.bytes(32);
export const FUZZ_DEKS = [0, 1, 2, 3, 4, 5].map(() => rng.bytes(32));
const VALID_WRAPPED = FUZZ_DEKS.map((d) => wrapDeterministic(FUZZ_KEK, d, rng));
const TAMPERED = Uint8Array.from(VALID_WRAPPED[0]!, (b, i) => (i === 20 ? b ^ 0x10 : b));
const validSet = new Set(VALID_WRAPPED.map(hex));
const canUnwrap = (w: Uint8Array): boolean => validSet.has(hex(w));

/** Nodes whose low 16 bits collide in pairs, so slot collisions are common. */
const NODES = [0x1_0001n, 0x2_0001n, 0x1_0002n, 0x3_0002n, 0x7n, 0xffff_ffff_ffff_0007n];

export interface FuzzStats {
  commands: number;
  entries: number;
  halts: number;
  errorsChecked: number;
}

export const stats: FuzzStats = { commands: 0, entries: 0, halts: 0, errorsChecked: 0 };

const dek = fc.constantFrom(0, 1, 2, 3, 4, 5);
const node = fc.constantFrom(...NODES);
const epoch = fc.integer({ min: 0, max: 6 });
const wrapped = fc.oneof(
  { arbitrary: fc.constantFrom(...VALID_WRAPPED), weight: 6 },
  { arbitrary: fc.constantFrom(TAMPERED, new Uint8Array(0), new Uint8Array(59)), weight: 1 },
);
const reg = fc.record({ dekId: dek, fullNodeId: node, localEpoch: epoch });
const registration = reg.map(encodeRegistration);
const goodBootstrap = fc.constant(
  encodeBootstrap({
    storageDekId: 1,
    storageWrapped: VALID_WRAPPED[1]!,
    raftDekId: 2,
    raftWrapped: VALID_WRAPPED[2]!,
    registrations: [{ dekId: 1, fullNodeId: NODES[0]!, localEpoch: 1 }],
  }),
);
const bootstrap = fc
  .record({
    storageDekId: dek,
    storageWrapped: wrapped,
    raftDekId: dek,
    raftWrapped: wrapped,
    registrations: fc.array(reg, { maxLength: 4 }),
  })
  .map(encodeBootstrap);
const rotation = fc
  .record({
    subtag: fc.constantFrom(RotationSubtag.ROTATE_DEK, RotationSubtag.ENABLE_STORAGE_ENVELOPE, RotationSubtag.ENABLE_RAFT_ENVELOPE),
    dekId: dek,
    purpose: fc.constantFrom(1, 2) as fc.Arbitrary<1 | 2>,
    wrapped: fc.oneof(wrapped, fc.constant(new Uint8Array(0))),
    proposer: reg,
    sameDek: fc.boolean(),
  })
  .map(({ sameDek, ...r }) => encodeRotation({ ...r, proposer: sameDek ? { ...r.proposer, dekId: r.dekId } : r.proposer }));
const valid = fc.oneof(
  { arbitrary: registration, weight: 8 },
  { arbitrary: goodBootstrap, weight: 2 },
  { arbitrary: bootstrap, weight: 1 },
  { arbitrary: rotation, weight: 3 },
);
/** A valid entry with one byte changed, cut short, or extended. */
const mutated = fc
  .tuple(valid, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'truncate', 'extend'))
  .map(([e, at, b, how]) => {
    const i = at % e.length;
    if (how === 'flip') return Uint8Array.from(e, (x, j) => (j === i ? x ^ (b | 1) : x));
    if (how === 'truncate') return e.subarray(0, i);
    return Uint8Array.of(...e, b);
  });
const random = fc.oneof(
  fc.uint8Array({ maxLength: 48 }),
  fc
    .tuple(fc.constantFrom(0x06, 0x07, 0x00, 0x02, 0x08, 0xff), fc.uint8Array({ maxLength: 16 }))
    .map(([op, rest]) => Uint8Array.of(op, 0x01, ...rest)),
);
export const entryArb = fc.oneof({ arbitrary: valid, weight: 7 }, { arbitrary: mutated, weight: 2 }, { arbitrary: random, weight: 1 });
const indexArb = fc.option(fc.bigInt({ min: 0n, max: 60n }), { freq: 8 });

/** The real system under test: the Applier over a store that can be restarted. */
export interface Real {
  store: RegistryStore;
  applier: Applier;
  /** Every row's node id as first seen, and the highest last epoch seen, across the whole run. */
  seen: Map<string, ModelRow>;
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

interface System {
  model: ModelState;
}

/** A store that passes every call through the current fast-check scheduler, when one is set. */
class SchedulingStore implements RegistryStore {
  scheduler: fc.Scheduler | undefined;
  constructor(readonly inner: RegistryStore) {}
  get kind(): string {
    return this.inner.kind;
  }
  async #turn(): Promise<void> {
    if (this.scheduler) await this.scheduler.schedule(Promise.resolve());
  }
  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    await this.#turn();
    return this.inner.get(key);
  }
  async write(puts: readonly StoreEntry[]): Promise<void> {
    await this.#turn();
    return this.inner.write(puts);
  }
  scan(prefix: Uint8Array): AsyncIterable<StoreEntry> {
    return this.inner.scan(prefix);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

const applierOptions = () => ({ kek: FileKek.fromBytes(FUZZ_KEK), now: FIXED_CLOCK, onRaftKeyInstalled: () => undefined });

export async function realSystem(adapter: 'memory' | AdapterName): Promise<Real> {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const dir = adapter === 'memory' ? '' : mkdtempSync(join(base, 'keyledger-fuzz-'));
  const open = async (): Promise<SchedulingStore> =>
    new SchedulingStore(adapter === 'memory' ? new MemoryRegistryStore() : await openStore(adapter, dir));
  let store = await open();
  const real: Real = {
    store,
    applier: await Applier.open(store, applierOptions()),
    seen: new Map(),
    async restart() {
      await real.applier.close();
      if (adapter !== 'memory') {
        await store.close();
        store = await open();
        real.store = store;
      }
      // A memory store keeps its rows across an applier restart: only the applier is rebuilt.
      real.applier = await Applier.open(real.store, applierOptions());
    },
    async dispose() {
      await real.applier.close();
      await store.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  return real;
}

function outcomeOf(err: unknown): string {
  if (!isKeyledgerError(err)) throw new Error(`a non-keyledger error escaped: ${String(err)}`, { cause: err });
  stats.errorsChecked++;
  const leak = leaks(errorText(err), [FUZZ_KEK, ...FUZZ_DEKS]);
  if (leak) throw new Error(`key material (${leak}) in an error: ${err.message}`);
  return reasonCode(err) ?? err.code;
}

/** Reads the real registry and state and checks them against the model and the run's history. */
async function checkInvariants(m: ModelState, r: Real, what: string): Promise<void> {
  const rows = new Map<string, ModelRow>();
  for await (const { key, value } of r.store.scan(REGISTRY_PREFIX)) {
    const k = decodeRegistryKey(key);
    const v = decodeRegistryRow(value);
    rows.set(`${k.dekId}/${k.nodeId16}`, { node: v.fullNodeId, first: v.firstSeenEpoch, last: v.lastSeenEpoch });
  }
  for (const [k, row] of rows) {
    if (row.first > row.last) throw new Error(`${what}: slot ${k} has first ${row.first} > last ${row.last}`);
    const before = r.seen.get(k);
    if (before) {
      if (before.node !== row.node) throw new Error(`${what}: slot ${k} changed its full node id from ${before.node} to ${row.node}`);
      if (row.last < before.last) throw new Error(`${what}: slot ${k} last epoch went down from ${before.last} to ${row.last}`);
      if (row.first !== before.first) throw new Error(`${what}: slot ${k} first epoch changed from ${before.first} to ${row.first}`);
    }
    r.seen.set(k, { ...row });
  }
  for (const k of r.seen.keys()) if (!rows.has(k)) throw new Error(`${what}: slot ${k} disappeared`);
  const want = JSON.stringify(
    [...m.rows].sort(([a], [b]) => (a < b ? -1 : 1)),
    (_, v) => (typeof v === 'bigint' ? v.toString() : v),
  );
  const got = JSON.stringify(
    [...rows].sort(([a], [b]) => (a < b ? -1 : 1)),
    (_, v) => (typeof v === 'bigint' ? v.toString() : v),
  );
  if (want !== got) throw new Error(`${what}: registry differs from the model\n model ${want}\n real  ${got}`);
  const s = r.applier.state;
  const realState = JSON.stringify({
    active: s.active,
    keys: [...s.keys].map(([id, k]) => [id, k.purpose, hex(k.wrapped)]).sort(),
    applied: s.raftAppliedIndex.toString(),
    top: r.applier.appliedIndex.toString(),
    env: s.storageEnvelopeActive,
    sc: s.storageEnvelopeCutoverIndex.toString(),
    rc: s.raftEnvelopeCutoverIndex.toString(),
  });
  const modelState = JSON.stringify({
    active: m.active,
    keys: [...m.keys].map(([id, k]) => [id, k.purpose, k.wrapped]).sort(),
    applied: m.applied.toString(),
    top: appliedTop(m).toString(),
    env: m.storageEnvelope,
    sc: m.storageCutover.toString(),
    rc: m.raftCutover.toString(),
  });
  if (realState !== modelState) throw new Error(`${what}: state differs from the model\n model ${modelState}\n real  ${realState}`);
  const ids = JSON.stringify(r.applier.keyIds());
  const modelIds = JSON.stringify([...m.keys.keys()].sort((a, b) => a - b));
  if (ids !== modelIds) throw new Error(`${what}: keystore holds ${ids}, model ${modelIds}`);
}

const show = (e: Uint8Array): string => hex(e).slice(0, 80);

class ApplyCommand implements fc.AsyncCommand<System, Real> {
  constructor(
    readonly entry: Uint8Array,
    readonly index: bigint | null,
  ) {}
  check = (): boolean => true;
  async run(sys: System, r: Real): Promise<void> {
    stats.commands++;
    stats.entries++;
    const index = this.index ?? undefined;
    const expected = applyModel(sys.model, this.entry, index, canUnwrap);
    const got = await r.applier.applyEntry(this.entry, index).then(answerOf, outcomeOf);
    if (got !== 'ok' && got !== 'already-applied') stats.halts++;
    if (got !== expected.outcome) throw new Error(`apply ${show(this.entry)} @${this.index}: real ${got}, model ${expected.outcome}`);
    sys.model = expected.next;
    await checkInvariants(sys.model, r, `after apply ${show(this.entry)}`);
  }
  toString = (): string => `apply(${show(this.entry)}, ${this.index})`;
}

class GroupCommand implements fc.AsyncCommand<System, Real> {
  constructor(readonly entries: { entry: Uint8Array; index: bigint | null }[]) {}
  check = (): boolean => true;
  async run(sys: System, r: Real): Promise<void> {
    stats.commands++;
    stats.entries += this.entries.length;
    let m = sys.model;
    let stopAt = -1;
    let expected = 'ok';
    for (const [i, e] of this.entries.entries()) {
      const step = applyModel(m, e.entry, e.index ?? undefined, canUnwrap);
      if (step.outcome !== 'ok' && step.outcome !== 'already-applied') {
        stopAt = i;
        expected = step.outcome;
        break;
      }
      m = step.next;
    }
    let position = -1;
    const got = await r.applier.applyEntries(this.entries.map((e) => ({ entry: e.entry, index: e.index ?? undefined }))).then(
      () => 'ok',
      (err: unknown) => {
        position = (err as { position?: number }).position ?? -2;
        return outcomeOf(err);
      },
    );
    if (got !== expected || position !== stopAt) throw new Error(`group: real ${got} at ${position}, model ${expected} at ${stopAt}`);
    sys.model = m;
    await checkInvariants(sys.model, r, 'after group');
  }
  toString = (): string => `group(${this.entries.map((e) => `${show(e.entry)}@${e.index}`).join(', ')})`;
}

class RestartCommand implements fc.AsyncCommand<System, Real> {
  check = (): boolean => true;
  async run(sys: System, r: Real): Promise<void> {
    stats.commands++;
    await r.restart();
    await checkInvariants(sys.model, r, 'after restart');
  }
  toString = (): string => 'restart';
}

/** Several applyEntry calls made at scheduler-chosen moments, store calls interleaved by the scheduler. */
class ConcurrentCommand implements fc.AsyncCommand<System, Real> {
  constructor(
    readonly entries: { entry: Uint8Array; index: bigint | null }[],
    readonly s: fc.Scheduler,
  ) {}
  check = (): boolean => true;
  async run(sys: System, r: Real): Promise<void> {
    stats.commands++;
    stats.entries += this.entries.length;
    const order: number[] = [];
    const results: Promise<string>[] = [];
    const store = r.store as SchedulingStore;
    store.scheduler = this.s;
    try {
      const calls = this.entries.map((e, i) =>
        this.s.schedule(Promise.resolve(i)).then(() => {
          order.push(i);
          const p = r.applier.applyEntry(e.entry, e.index ?? undefined).then(answerOf, outcomeOf);
          results[i] = p;
          return p;
        }),
      );
      await this.s.waitFor(Promise.all(calls));
    } finally {
      store.scheduler = undefined;
    }
    // Serialized in call order: the model applies them in the order the calls were made.
    let m = sys.model;
    for (const i of order) {
      const e = this.entries[i]!;
      const step = applyModel(m, e.entry, e.index ?? undefined, canUnwrap);
      const got = await results[i]!;
      if (got !== 'ok' && got !== 'already-applied') stats.halts++;
      if (got !== step.outcome)
        throw new Error(`concurrent call ${i} (${show(e.entry)}): real ${got}, model ${step.outcome}; call order ${order.join(',')}`);
      m = step.next;
    }
    sys.model = m;
    await checkInvariants(sys.model, r, 'after concurrent calls');
  }
  toString = (): string => `concurrent(${this.entries.map((e) => show(e.entry)).join(', ')}; ${this.s.report().length} scheduled)`;
}

const indexed = fc.record({ entry: entryArb, index: indexArb });
export const commandsArb = fc.commands(
  [
    fc.tuple(entryArb, indexArb).map(([e, i]) => new ApplyCommand(e, i)),
    fc.tuple(entryArb, indexArb).map(([e, i]) => new ApplyCommand(e, i)),
    fc.tuple(entryArb, indexArb).map(([e, i]) => new ApplyCommand(e, i)),
    fc.array(indexed, { minLength: 1, maxLength: 5 }).map((es) => new GroupCommand(es)),
    fc.constant(new RestartCommand()),
    fc.tuple(fc.array(indexed, { minLength: 2, maxLength: 5 }), fc.scheduler()).map(([es, s]) => new ConcurrentCommand(es, s)),
  ],
  { maxCommands: 25 },
);

/** The model-based property: any command sequence keeps the real applier equal to the model. */
export function applierProperty(adapter: 'memory' | AdapterName) {
  return fc.asyncProperty(commandsArb, async (cmds) => {
    const real = await realSystem(adapter);
    try {
      await fc.asyncModelRun(() => ({ model: { model: emptyModel() }, real }), cmds);
    } finally {
      await real.dispose();
    }
  });
}

export { cloneModel, slotKey };
