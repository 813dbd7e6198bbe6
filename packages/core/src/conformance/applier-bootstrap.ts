import { deepStrictEqual, ok, strictEqual } from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Applier } from '../applier/applier.js';
import { bytesEqual } from '../bytes.js';
import type { ApplierOptions } from '../applier/applier-options.js';
import { encodeBootstrap, type Bootstrap } from '../codec/bootstrap.js';
import { registryKey } from '../codec/registry-key.js';
import { Purpose, RotationSubtag, encodeRotation, type Rotation } from '../codec/rotation.js';
import { decodeRegistryRow, type RegistryRow } from '../codec/registry-row.js';
import { encodeRegistration, type Registration } from '../codec/registration.js';
import { FileKek } from '../crypto/file-kek.js';
import { ErrorCode, isHalt, type KeyledgerErrorCode } from '../errors.js';
import { STATE_KEY, encodeState } from '../state/encryption-state.js';
import { exportSidecar, importSidecar } from '../state/sidecar.js';
import type { RegistryStore, StoreEntry } from '../store/registry-store.js';
import { rejectsWithCode, sameBytes, sameEntries, scanAll } from './case-fixtures.js';
import { requireDurable, type ConformanceCase } from './conformance-case.js';
import { FaultyStore } from './faulty-store.js';

// Fixtures shared by the applier's key-bearing groups (bootstrap, rotation, and the crash case
// that applies both): a KEK over random bytes, a fixed clock so state records are reproducible,
// and a way to prove that a halted entry changed nothing a caller can observe.

/** The clock every key-bearing case gives the applier, so two replays write byte-identical state. */
export const FIXED_NOW = new Date('2025-01-01T00:00:00.000Z');

export const W1 = 0x0000_0001_0000_0001n;
export const W2 = 0x0000_0001_0000_0002n;
export const W3 = 0x0000_0001_0000_0003n;
/** Shares W1's 16-bit slot (0x0001) under another full node id. */
export const W1_TWIN = 0x0000_0009_0000_0001n;

/** A KEK over 32 fresh random bytes; conformance never needs a file on disk. */
export function newKek(): FileKek {
  return FileKek.fromBytes(randomBytes(32), 'conformance');
}

/** A fresh random DEK wrapped by `kek`. */
export function wrapNewDek(kek: FileKek): Promise<Uint8Array> {
  return kek.wrap(randomBytes(32));
}

/** The same wrapped DEK with one ciphertext bit flipped: no KEK can unwrap it. */
export function tampered(wrapped: Uint8Array): Uint8Array {
  const out = new Uint8Array(wrapped);
  out[20] = out[20]! ^ 0x01;
  return out;
}

export async function withKeyedApplier<T>(
  store: RegistryStore,
  kek: FileKek | undefined,
  fn: (a: Applier) => Promise<T>,
  options: ApplierOptions = {},
): Promise<T> {
  const applier = await Applier.open(store, { ...(kek ? { kek } : {}), now: () => FIXED_NOW, ...options });
  try {
    return await fn(applier);
  } finally {
    await applier.close();
  }
}

export const reg = (dekId: number, fullNodeId: bigint, localEpoch: number): Registration => ({ dekId, fullNodeId, localEpoch });
export const regEntry = (dekId: number, fullNodeId: bigint, localEpoch: number): Uint8Array =>
  encodeRegistration(reg(dekId, fullNodeId, localEpoch));

/** A bootstrap of storage DEK 1 and raft DEK 2 whose batch registers W1..W3 at epoch 1 under both. */
export async function newBootstrap(kek: FileKek, patch: Partial<Bootstrap> = {}): Promise<Bootstrap> {
  return {
    storageDekId: 1,
    storageWrapped: await wrapNewDek(kek),
    raftDekId: 2,
    raftWrapped: await wrapNewDek(kek),
    registrations: [W1, W2, W3].flatMap((w) => [reg(1, w, 1), reg(2, w, 1)]),
    ...patch,
  };
}

export async function rowOf(store: RegistryStore, dekId: number, fullNodeId: bigint): Promise<RegistryRow | undefined> {
  const v = await store.get(registryKey(dekId, fullNodeId));
  return v === undefined ? undefined : decodeRegistryRow(v);
}

/** Everything a caller can observe after an apply: every stored row, the applier's state, its keystore ids. */
export interface Observed {
  rows: StoreEntry[];
  state: string;
  keyIds: number[];
}

export async function observe(store: RegistryStore, applier: Applier): Promise<Observed> {
  return { rows: await scanAll(store), state: exportSidecar(applier.state), keyIds: applier.keyIds() };
}

/** Asserts that nothing observable changed since `before`: rows, state and keystore. */
export async function unchanged(store: RegistryStore, applier: Applier, before: Observed, what: string): Promise<void> {
  const now = await observe(store, applier);
  sameEntries(now.rows, before.rows, `${what}: the stored rows must be exactly as before`);
  deepStrictEqual(now.state, before.state, `${what}: the applier's state must be exactly as before`);
  deepStrictEqual(now.keyIds, before.keyIds, `${what}: the keystore must hold exactly the keys it held before`);
}

/** Applies `entry`, expects a halt whose cause chain carries `code`, and that nothing changed. */
export async function haltsAndChangesNothing(
  store: RegistryStore,
  applier: Applier,
  entry: Uint8Array,
  index: bigint | undefined,
  code: KeyledgerErrorCode,
  what: string,
): Promise<void> {
  const before = await observe(store, applier);
  const err = await rejectsWithCode(applier.applyEntry(entry, index), code, what);
  ok(isHalt(err), `${what}: must be a halt (ERR_ENCRYPTION_APPLY), got ${(err as { code?: string }).code}`);
  await unchanged(store, applier, before, what);
}

/** The stored state record must be exactly what the applier holds. */
export async function storedStateIsHeld(store: RegistryStore, applier: Applier, what: string): Promise<void> {
  sameBytes(await store.get(STATE_KEY), encodeState(applier.state), `${what}: the stored state record`);
}

/** Asserts that the only change since `before` is the applied index, which is now `index`. */
export async function onlyIndexRaised(
  store: RegistryStore,
  applier: Applier,
  before: Observed,
  index: bigint,
  what: string,
): Promise<void> {
  const raised = { ...importSidecar(before.state), raftAppliedIndex: index };
  const rows = before.rows.map((r) => (bytesEqual(r.key, STATE_KEY) ? { key: r.key, value: encodeState(raised) } : r));
  await unchanged(store, applier, { rows, state: exportSidecar(raised), keyIds: before.keyIds }, what);
}

/** A DEK rotation; the proposer registers under `proposerDek` (the entry's own DEK unless a case breaks that rule). */
export function rotateDekEntry(
  dekId: number,
  purpose: Purpose,
  wrapped: Uint8Array,
  proposer: bigint,
  epoch: number,
  proposerDek = dekId,
): Uint8Array {
  return encodeRotation({ subtag: RotationSubtag.ROTATE_DEK, dekId, purpose, wrapped, proposer: reg(proposerDek, proposer, epoch) });
}

/** An envelope cutover of the right shape unless `patch` breaks it. */
export function cutoverEntry(
  subtag: typeof RotationSubtag.ENABLE_STORAGE_ENVELOPE | typeof RotationSubtag.ENABLE_RAFT_ENVELOPE,
  dekId: number,
  proposer: bigint,
  epoch: number,
  patch: Partial<Rotation> = {},
): Uint8Array {
  const purpose = subtag === RotationSubtag.ENABLE_STORAGE_ENVELOPE ? Purpose.STORAGE : Purpose.RAFT;
  return encodeRotation({ subtag, dekId, purpose, wrapped: new Uint8Array(0), proposer: reg(dekId, proposer, epoch), ...patch });
}

const group = 'applier-bootstrap';

export const applierBootstrapCases: ConformanceCase[] = [
  {
    group,
    name: 'bootstrap › installs both DEKs, both active ids, the applied index and every batch row in one write',
    async run(ctx) {
      const kek = newKek();
      const store = new FaultyStore(await ctx.open());
      const b = await newBootstrap(kek);
      await withKeyedApplier(store, kek, async (a) => {
        const writes = store.calls.write;
        deepStrictEqual(await a.applyEntry(encodeBootstrap(b), 7n), { kind: 'bootstrap', effect: 'bootstrapped' });
        strictEqual(store.calls.write - writes, 1, 'a bootstrap commits with exactly one write');
        deepStrictEqual(a.keyIds(), [1, 2], 'both DEKs are in the keystore');
        const s = a.state;
        deepStrictEqual(s.active, { storage: 1, raft: 2 });
        strictEqual(s.raftAppliedIndex, 7n);
        strictEqual(s.storageEnvelopeActive, false);
        strictEqual(s.raftEnvelopeCutoverIndex, 0n);
        const created = FIXED_NOW.toISOString();
        deepStrictEqual(s.keys.get(1), { purpose: 'storage', wrapped: b.storageWrapped, created, localEpoch: 0 });
        deepStrictEqual(s.keys.get(2), { purpose: 'raft', wrapped: b.raftWrapped, created, localEpoch: 0 });
        await storedStateIsHeld(store, a, 'after bootstrap');
      });
      for (const r of b.registrations) {
        const row = await rowOf(store, r.dekId, r.fullNodeId);
        deepStrictEqual(
          row,
          { fullNodeId: r.fullNodeId, firstSeenEpoch: 1, lastSeenEpoch: 1 },
          `batch row of node ${r.fullNodeId} under DEK ${r.dekId}`,
        );
      }
    },
  },
  {
    group,
    name: 'bootstrap › an exact replay is accepted and only raises the applied index, which never goes down',
    async run(ctx) {
      const kek = newKek();
      const store = new FaultyStore(await ctx.open());
      const entry = encodeBootstrap(await newBootstrap(kek));
      await withKeyedApplier(store, kek, async (a) => {
        await a.applyEntry(entry, 7n);
        // W1 advanced since: re-applying the batch would read as a rollback, so a replay must not re-apply it.
        await a.applyEntry(regEntry(1, W1, 5), 8n);
        const before = await observe(store, a);
        const writes = store.calls.write;
        deepStrictEqual(await a.applyEntry(entry, 5n), { kind: 'bootstrap', effect: 'replayed' });
        strictEqual(store.calls.write, writes, 'a replay at a lower index writes nothing');
        await unchanged(store, a, before, 'replay at a lower index');
        deepStrictEqual(await a.applyEntry(entry, 9n), { kind: 'bootstrap', effect: 'replayed' });
        await onlyIndexRaised(store, a, before, 9n, 'replay at a higher index');
      });
      deepStrictEqual(await rowOf(store, 1, W1), { fullNodeId: W1, firstSeenEpoch: 1, lastSeenEpoch: 5 });
    },
  },
  {
    group,
    name: 'bootstrap › a re-bootstrap with other DEK ids halts with ERR_KEY_CONFLICT and changes nothing',
    async run(ctx) {
      const kek = newKek();
      const store = await ctx.open();
      const first = await newBootstrap(kek);
      await withKeyedApplier(store, kek, async (a) => {
        await a.applyEntry(encodeBootstrap(first), 3n);
        const others: [string, Bootstrap][] = [
          ['new ids', await newBootstrap(kek, { storageDekId: 3, raftDekId: 4, registrations: [] })],
          [
            'ids swapped',
            {
              ...first,
              storageDekId: 2,
              storageWrapped: first.raftWrapped,
              raftDekId: 1,
              raftWrapped: first.storageWrapped,
              registrations: [],
            },
          ],
          ['same storage, other raft', { ...first, raftDekId: 5, registrations: [] }],
        ];
        for (const [what, b] of others) {
          await haltsAndChangesNothing(store, a, encodeBootstrap(b), 4n, ErrorCode.KEY_CONFLICT, `re-bootstrap with ${what}`);
        }
      });
    },
  },
  {
    group,
    name: 'bootstrap › once a rotation moved an active id on, a replay of the bootstrap halts with ERR_KEY_CONFLICT and changes nothing',
    async run(ctx) {
      const kek = newKek();
      const store = await ctx.open();
      const boot = encodeBootstrap(await newBootstrap(kek));
      await withKeyedApplier(store, kek, async (a) => {
        await a.applyEntry(boot, 3n);
        await a.applyEntry(rotateDekEntry(3, Purpose.STORAGE, await wrapNewDek(kek), W1, 2), 4n);
        // The ids no longer match the active ones, so this is not the exact replay docs/design.md, 'Bootstrap rule', accepts.
        await haltsAndChangesNothing(store, a, boot, 5n, ErrorCode.KEY_CONFLICT, 'bootstrap replayed after a storage rotation');
      });
    },
  },
  {
    group,
    name: 'bootstrap › the same ids with other wrapped bytes halt with ERR_KEY_CONFLICT and change nothing',
    async run(ctx) {
      const kek = newKek();
      const store = await ctx.open();
      const first = await newBootstrap(kek);
      await withKeyedApplier(store, kek, async (a) => {
        await a.applyEntry(encodeBootstrap(first), 3n);
        // A re-wrap of the same DEK differs in its random nonce: still not an exact replay.
        const rewrapped = await kek.wrap(await kek.unwrap(first.storageWrapped));
        for (const [what, b] of [
          ['another storage DEK', { ...first, storageWrapped: await wrapNewDek(kek) }],
          ['another raft DEK', { ...first, raftWrapped: await wrapNewDek(kek) }],
          ['the storage DEK wrapped again', { ...first, storageWrapped: rewrapped }],
        ] as const) {
          await haltsAndChangesNothing(store, a, encodeBootstrap(b), 4n, ErrorCode.KEY_CONFLICT, `re-bootstrap with ${what}`);
        }
      });
    },
  },
  {
    group,
    name: 'bootstrap › a batch row naming a foreign DEK halts with ERR_FSM_WIRE_MALFORMED and changes nothing',
    async run(ctx) {
      const kek = newKek();
      const store = await ctx.open();
      await withKeyedApplier(store, kek, async (a) => {
        const b = await newBootstrap(kek, { registrations: [reg(1, W1, 1), reg(3, W2, 1)] });
        await haltsAndChangesNothing(store, a, encodeBootstrap(b), 1n, ErrorCode.FSM_WIRE_MALFORMED, 'batch row under DEK 3');
        sameEntries(await scanAll(store), [], 'nothing may be written');
      });
    },
  },
  {
    group,
    name: 'bootstrap › equal storage and raft ids halt with ERR_FSM_WIRE_MALFORMED and change nothing',
    async run(ctx) {
      const kek = newKek();
      const store = await ctx.open();
      await withKeyedApplier(store, kek, async (a) => {
        const b = await newBootstrap(kek, { raftDekId: 1, registrations: [reg(1, W1, 1)] });
        await haltsAndChangesNothing(store, a, encodeBootstrap(b), 1n, ErrorCode.FSM_WIRE_MALFORMED, 'storage id = raft id');
        sameEntries(await scanAll(store), [], 'nothing may be written');
      });
    },
  },
  {
    group,
    name: 'bootstrap › a DEK the KEK cannot unwrap halts with ERR_KEK_MISMATCH and changes nothing',
    async run(ctx) {
      const kek = newKek();
      const store = await ctx.open();
      const good = await newBootstrap(kek);
      await withKeyedApplier(store, kek, async (a) => {
        for (const [what, b] of [
          ['a tampered storage DEK', { ...good, storageWrapped: tampered(good.storageWrapped) }],
          ['a raft DEK wrapped by another KEK', { ...good, raftWrapped: await wrapNewDek(newKek()) }],
          ['a truncated raft DEK', { ...good, raftWrapped: good.raftWrapped.subarray(0, 59) }],
        ] as const) {
          await haltsAndChangesNothing(store, a, encodeBootstrap(b), 1n, ErrorCode.KEK_MISMATCH, what);
        }
        sameEntries(await scanAll(store), [], 'nothing may be written');
        deepStrictEqual((await a.applyEntry(encodeBootstrap(good), 1n)).effect, 'bootstrapped', 'the good bootstrap applies afterwards');
      });
    },
  },
  {
    group,
    name: 'bootstrap › a batch registration that halts undoes the whole entry: no key, no state, no row',
    async run(ctx) {
      const kek = newKek();
      const store = await ctx.open();
      await withKeyedApplier(store, kek, async (a) => {
        const collision = await newBootstrap(kek, { registrations: [reg(1, W1, 1), reg(2, W2, 1), reg(1, W1_TWIN, 1)] });
        await haltsAndChangesNothing(
          store,
          a,
          encodeBootstrap(collision),
          1n,
          ErrorCode.NODE_ID_COLLISION,
          'two nodes on one slot in the batch',
        );
        const rollback = await newBootstrap(kek, { registrations: [reg(1, W1, 4), reg(1, W1, 2)] });
        await haltsAndChangesNothing(
          store,
          a,
          encodeBootstrap(rollback),
          1n,
          ErrorCode.LOCAL_EPOCH_ROLLBACK,
          'an epoch going back in the batch',
        );
        sameEntries(await scanAll(store), [], 'nothing may be written');
      });
    },
  },
  {
    group,
    name: 'bootstrap › a failing write halts with ERR_STORE_IO, leaves state, keystore and rows as before, and the entry applies on retry',
    async run(ctx) {
      const kek = newKek();
      const store = new FaultyStore(await ctx.open());
      const entry = encodeBootstrap(await newBootstrap(kek));
      await withKeyedApplier(store, kek, async (a) => {
        await a.applyEntry(regEntry(7, W1, 1), 1n);
        store.plan = { operation: 'write', nth: store.calls.write + 1, mode: 'once' };
        await haltsAndChangesNothing(store, a, entry, 2n, ErrorCode.STORE_IO, 'bootstrap over a failing write');
        deepStrictEqual((await a.applyEntry(entry, 2n)).effect, 'bootstrapped', 'the same entry applies once the store recovers');
        deepStrictEqual(a.keyIds(), [1, 2]);
        await storedStateIsHeld(store, a, 'after the retry');
      });
    },
  },
  {
    group,
    name: 'bootstrap › a failing read halts with ERR_STORE_IO and changes nothing',
    async run(ctx) {
      const kek = newKek();
      const store = new FaultyStore(await ctx.open());
      const entry = encodeBootstrap(await newBootstrap(kek));
      await withKeyedApplier(store, kek, async (a) => {
        const before = await observe(store, a);
        const writes = store.calls.write;
        store.plan = { operation: 'get', nth: store.calls.get + 1, mode: 'forever' };
        ok(isHalt(await rejectsWithCode(a.applyEntry(entry, 1n), ErrorCode.STORE_IO, 'bootstrap over a failing read')));
        strictEqual(store.calls.write, writes, 'nothing may be written after a failed read');
        store.plan = undefined;
        await unchanged(store, a, before, 'bootstrap over a failing read');
      });
    },
  },
  {
    group,
    name: 'applier › a new applier loads the state and rebuilds the keystore with the KEK; another KEK is refused with ERR_KEK_MISMATCH',
    async run(ctx) {
      const kek = newKek();
      const store = await ctx.open();
      const boot = encodeBootstrap(await newBootstrap(kek));
      const rotation = rotateDekEntry(3, Purpose.STORAGE, await wrapNewDek(kek), W1, 2);
      const held = await withKeyedApplier(store, kek, async (a) => {
        await a.applyEntry(boot, 3n);
        await a.applyEntry(rotation, 4n);
        return observe(store, a);
      });
      deepStrictEqual(held.keyIds, [1, 2, 3]);
      await withKeyedApplier(store, kek, async (a) => {
        await unchanged(store, a, held, 'a new applier with the same KEK');
        deepStrictEqual((await a.applyEntry(rotation, 6n)).effect, 'replayed', 'the new applier continues from the loaded state');
      });
      const err = await rejectsWithCode(Applier.open(store, { kek: newKek() }), ErrorCode.KEK_MISMATCH, 'an applier with another KEK');
      ok(!isHalt(err), 'a refused open is not a halt: no entry was applied');
      await withKeyedApplier(store, undefined, async (a) => {
        deepStrictEqual(a.keyIds(), [], 'without a KEK the keystore stays empty');
        deepStrictEqual(a.state.active, { storage: 3, raft: 2 }, 'without a KEK the state still loads');
      });
      // The refused applier let go of the store, so one with the right KEK opens on it again.
      await withKeyedApplier(store, kek, async (a) => deepStrictEqual(a.keyIds(), [1, 2, 3]));
    },
  },
  {
    group,
    name: 'applier › state, rows and keystore survive closing and reopening the store',
    async run(ctx) {
      const kek = newKek();
      const dir = await ctx.freshDir();
      const first = await ctx.open(dir);
      requireDurable(ctx, first);
      const held = await withKeyedApplier(first, kek, async (a) => {
        await a.applyEntry(encodeBootstrap(await newBootstrap(kek)), 3n);
        await a.applyEntry(rotateDekEntry(3, Purpose.RAFT, await wrapNewDek(kek), W2, 2), 4n);
        await a.applyEntry(cutoverEntry(RotationSubtag.ENABLE_STORAGE_ENVELOPE, 1, W3, 2), 5n);
        await a.applyEntry(cutoverEntry(RotationSubtag.ENABLE_RAFT_ENVELOPE, 3, W3, 2), 6n);
        return observe(first, a);
      });
      await first.close();
      const second = await ctx.open(dir);
      await withKeyedApplier(second, kek, (a) => unchanged(second, a, held, 'after reopening with the same KEK'));
      await rejectsWithCode(Applier.open(second, { kek: newKek() }), ErrorCode.KEK_MISMATCH, 'reopening with another KEK');
    },
  },
];
