import { encodeAppliedIndex, APPLIED_INDEX_LENGTH, APPLIED_KEY } from '../codec/applied-index.js';
import { decodeEntry, isEncryptionOpcode, type Entry } from '../codec/entry.js';
import { encodeRegistration, isWellFormedRegistration } from '../codec/registration.js';
import type { Keystore } from '../crypto/keystore.js';
import { encodeState, STATE_KEY, type EncryptionState } from '../state/encryption-state.js';
import type { RegistryStore, StoreEntry } from '../store/registry-store.js';
import type { ApplierOptions } from './applier-options.js';
import { applyBootstrap } from './apply-bootstrap.js';
import { applyRegistration } from './apply-registration.js';
import type { ApplyResult } from './apply-result.js';
import { applyRotation } from './apply-rotation.js';
import { EntryTxn, GroupTxn, rowSlab } from './apply-txn.js';
import { type MaybeAsync, andThen } from '../maybe-async.js';

/** An entry of a group, its arguments already checked. */
export interface GroupItem {
  entry: Uint8Array;
  index: bigint | undefined;
}

/** What the group's entries read and stage against: the applier's committed view. */
export interface GroupBase {
  store: RegistryStore;
  state: EncryptionState;
  keystore: Keystore;
  options: ApplierOptions;
  /** The effective applied index: max of the applied-index record and the state's raft_applied_index. */
  applied: bigint;
}

/** A group applied up to its first stop: `results[i]` for the entries before `stopAt`. */
export interface GroupOutcome {
  txn: GroupTxn;
  results: ApplyResult[];
  /** `results.length`; equals the item count when nothing stopped. */
  stopAt: number;
  /** Why the entry at `stopAt` stopped (the reason, not yet a halt). */
  stop?: unknown;
  /** The applied index once the group's write is durable. */
  applied: bigint;
}

/**
 * True when the entry was applied before: an encryption entry whose index is at or below the
 * applied index (docs/design.md, 'Re-delivery and the applied index'). `0n` carries no such protection: it is
 * "none" for the applied index, and Raft never uses it.
 */
export function isReapplied(item: GroupItem, applied: bigint): boolean {
  const { index, entry } = item;
  return index !== undefined && index !== 0n && index <= applied && isEncryptionOpcode(entry[0]!);
}

/** Entry i's decoded form (undefined for a well-formed registration, read from its bytes), its registrations as entry bytes, or why it does not decode. */
type KeyEntry = Exclude<Entry, { kind: 'registration' }>;

interface Planned {
  decoded?: KeyEntry;
  regs?: Uint8Array[];
  error?: unknown;
}

/** Each entry's plan, and every registration the group applies (16 entry bytes each), whose rows it prefetches. */
function plan(items: readonly GroupItem[], applied: bigint): { planned: Planned[]; registrations: Uint8Array[] } {
  const planned: Planned[] = new Array(items.length);
  const registrations: Uint8Array[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (isReapplied(item, applied)) continue;
    if (isWellFormedRegistration(item.entry)) {
      registrations.push(item.entry);
      continue;
    }
    try {
      // Every registration decodeEntry accepts is well-formed, so this is a bootstrap or a rotation.
      const decoded = decodeEntry(item.entry) as KeyEntry;
      const regs = decoded.kind === 'bootstrap' ? decoded.registrations.map(encodeRegistration) : [encodeRegistration(decoded.proposer)];
      for (const reg of regs) registrations.push(reg);
      planned[i] = { decoded, regs };
    } catch (error) {
      // Raised when the entry's turn comes: the entries before it still apply.
      planned[i] = { error };
    }
  }
  return { planned, registrations };
}

/** A group being applied: what its entries read and stage against, and how far it got. */
interface GroupRun {
  base: GroupBase;
  txn: GroupTxn;
  items: readonly GroupItem[];
  planned: Planned[];
  results: ApplyResult[];
  applied: bigint;
}

/**
 * Applies a group in order against one transaction: the rows every entry needs are prefetched,
 * then each entry decides on what the entries before it staged. Stops at the first entry that
 * fails; nothing is written here (see {@link groupPuts}). Synchronous over a synchronous backend
 * for a group of registrations; a promise once something must be awaited (an asynchronous read, a
 * bootstrap or rotation). A failed prefetch throws or rejects.
 */
export function applyGroup(base: GroupBase, items: readonly GroupItem[]): MaybeAsync<GroupOutcome> {
  const { planned, registrations } = plan(items, base.applied);
  const txn = new GroupTxn(base.state, registrations.length);
  const run: GroupRun = { base, txn, items, planned, results: new Array(items.length), applied: base.applied };
  return andThen(txn.prefetch(base.store, registrations), () => applyFrom(run, 0));
}

/** The group's entries from `from` on: synchronously up to a bootstrap or rotation, which continues once it has applied. */
function applyFrom(run: GroupRun, from: number): MaybeAsync<GroupOutcome> {
  const { items, planned, results } = run;
  for (let i = from; i < items.length; i++) {
    const item = items[i]!;
    if (isReapplied(item, run.applied)) {
      results[i] = { kind: 'already-applied', index: item.index! };
      continue;
    }
    const p = planned[i];
    if (p !== undefined) {
      return applyKeyEntry(run.base, run.txn, item, p).then(
        (result) => {
          results[i] = result;
          advance(run, item);
          return applyFrom(run, i + 1);
        },
        (stop: unknown) => stopped(run, i, stop),
      );
    }
    // A well-formed registration is applied synchronously (no promise per registration): it
    // touches one row and stages at most one put, as its last step, so it needs no per-entry
    // staging to change nothing when it halts.
    try {
      const r = applyRegistration(run.txn, item.entry);
      results[i] = { kind: 'registration', effect: r.effect, registrations: [r] };
    } catch (stop) {
      return stopped(run, i, stop);
    }
    advance(run, item);
  }
  return { txn: run.txn, results, stopAt: items.length, applied: run.applied };
}

function advance(run: GroupRun, item: GroupItem): void {
  if (item.index !== undefined && item.index > run.applied) run.applied = item.index;
}

function stopped(run: GroupRun, at: number, stop: unknown): GroupOutcome {
  run.results.length = at;
  return { txn: run.txn, results: run.results, stopAt: at, stop, applied: run.applied };
}

async function applyKeyEntry(base: GroupBase, group: GroupTxn, item: GroupItem, p: Planned): Promise<ApplyResult> {
  if (p.error !== undefined) throw p.error;
  const txn = new EntryTxn(group, base.keystore);
  try {
    const result = await dispatch(txn, p.decoded!, p.regs!, item.index, base.options);
    group.merge(txn);
    return result;
  } catch (err) {
    txn.discard();
    throw err;
  }
}

async function dispatch(
  txn: EntryTxn,
  decoded: KeyEntry,
  regs: Uint8Array[],
  index: bigint | undefined,
  options: ApplierOptions,
): Promise<ApplyResult> {
  switch (decoded.kind) {
    case 'bootstrap':
      return { kind: 'bootstrap', ...(await applyBootstrap(txn, decoded, regs, index, options)) };
    case 'rotation':
      return { kind: 'rotation', ...(await applyRotation(txn, decoded, regs[0]!, index, options)) };
  }
}

/** Everything the applied part of a group commits, for one atomic write; empty when it changed nothing. */
export function groupPuts(outcome: GroupOutcome, recorded: bigint): StoreEntry[] {
  const puts = outcome.txn.rowPuts();
  if (outcome.txn.stateDirty) puts.push({ key: STATE_KEY, value: encodeState(outcome.txn.state) });
  if (outcome.applied > recorded)
    puts.push({ key: APPLIED_KEY, value: encodeAppliedIndex(outcome.applied, rowSlab.take(APPLIED_INDEX_LENGTH)) });
  return puts;
}
