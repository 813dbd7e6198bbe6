import { APPLIED_KEY, decodeAppliedIndex } from '../codec/applied-index.js';
import { Keystore } from '../crypto/keystore.js';
import { ErrorCode, KeyledgerError, halt, hasCode, isKeyledgerError } from '../errors.js';
import { STATE_KEY, decodeState, emptyState, encodeState, type EncryptionState } from '../state/encryption-state.js';
import { type MaybeAsync, isThenable } from '../maybe-async.js';
import { writeHandedOver } from '../store/base-registry-store.js';
import type { RegistryStore } from '../store/registry-store.js';
import type { ApplierOptions, IndexedEntry } from './applier-options.js';
import { applyGroup, groupPuts, type GroupItem, type GroupOutcome } from './apply-group.js';
import type { AppliedEvent, ApplyResult } from './apply-result.js';
import { checkEntries, checkEntry } from './arguments.js';
import { PendingCalls, type PendingCall } from './pending-calls.js';
import { bindApplierBridge } from './encryptor-bridge.js';
import { checkStore, holdStore, releaseStore } from './store-hold.js';

/** Only `Applier.open` may construct: it is the one place an applier's state is loaded. */
const OPEN = Symbol('Applier.open');

interface Loaded {
  state: EncryptionState;
  keystore: Keystore;
  /** The `!encryption|applied` record (0n when absent). */
  recorded: bigint;
}

async function load(store: RegistryStore, options: ApplierOptions): Promise<Loaded> {
  const raw = await store.get(STATE_KEY);
  const state = raw === undefined ? emptyState() : decodeState(raw);
  const rec = await store.get(APPLIED_KEY);
  const recorded = rec === undefined ? 0n : decodeAppliedIndex(rec);
  const keystore = new Keystore();
  const kek = options.kek;
  if (kek) {
    for (const [id, key] of state.keys) {
      let dek: Uint8Array;
      try {
        dek = await kek.unwrap(key.wrapped);
      } catch (err) {
        keystore.close();
        if (hasCode(err, ErrorCode.KEK_MISMATCH)) throw err;
        throw new KeyledgerError(ErrorCode.KEK_MISMATCH, `the KEK cannot unwrap stored DEK ${id}`, { cause: err });
      }
      keystore.add(id, dek);
      dek.fill(0);
    }
  }
  return { state, keystore, recorded };
}

/**
 * Applies replicated encryption entries to durable local state (docs/design.md, 'Applier').
 *
 * Calls behave as if made one after another in call order, and each resolves once its entries'
 * effects are durable. Calls made while a write is in flight are coalesced into the next group
 * and committed with one write: a Raft host that hands entries over without awaiting each one
 * pays one fsync per group, not per entry, with the same results and halts.
 *
 * Pass every entry's raft index: an entry at or below the applied index is a re-delivery and
 * resolves `{ kind: 'already-applied' }` without changing anything.
 *
 * @example
 * const applier = await Applier.open(store, { kek: await FileKek.open('kek.bin') });
 * await applier.applyEntry(encodeRegistration({ dekId: 1, fullNodeId: 7n, localEpoch: 1 }), 42n);
 */
export class Applier {
  readonly #store: RegistryStore;
  readonly #options: ApplierOptions;
  readonly #keystore: Keystore;
  #state: EncryptionState;
  /** The effective applied index: max of the record and the state's raft_applied_index. */
  #applied: bigint;
  readonly #pending = new PendingCalls((calls) => this.#commit(calls));
  readonly #listeners = new Set<(event: AppliedEvent) => void>();
  #closing: Promise<void> | undefined;

  private constructor(token: symbol, store: RegistryStore, options: ApplierOptions, loaded: Loaded) {
    if (token !== OPEN)
      throw new KeyledgerError(ErrorCode.INVALID_ARGUMENT, 'construct an applier with `await Applier.open(store, options)`');
    this.#store = store;
    this.#options = options;
    this.#keystore = loaded.keystore;
    this.#state = loaded.state;
    // Math.max takes no bigint: the larger of the record and the state's raft_applied_index.
    this.#applied = loaded.recorded;
    if (loaded.state.raftAppliedIndex > this.#applied) this.#applied = loaded.state.raftAppliedIndex;
    this.#bindEncryptorBridge();
  }

  /** The Encryptor's access (docs/design.md, section 'Encryptor'): its write path runs alone in the call queue; key bytes never leave core. */
  #bindEncryptorBridge(): void {
    const self = this;
    bindApplierBridge(this, {
      serialized: (task) =>
        self.#closedRefusal() ??
        new Promise((resolve, reject) => {
          const io = () => ({
            state: self.#state,
            get: (key: Uint8Array) => self.#store.get(key),
            commitState: async (next: EncryptionState) => {
              await self.#store.write([{ key: STATE_KEY, value: encodeState(next) }]);
              self.#state = next;
            },
          });
          self.#pending.exclusive(() => task(io()).then(resolve, reject));
        }),
      dek: (id) => self.#keystore.get(id),
      get closed() {
        return self.#closing !== undefined;
      },
    });
  }

  /**
   * Holds the store, loads the stored state and applied index, and rebuilds the keystore with
   * the KEK. Rejects with ERR_STORE_IN_USE, ERR_STATE_MALFORMED, ERR_KEK_MISMATCH or ERR_STORE_IO,
   * and then holds nothing: call `open` again to retry.
   */
  static async open(store: RegistryStore, options: ApplierOptions = {}): Promise<Applier> {
    checkStore(store);
    holdStore(store);
    try {
      return new Applier(OPEN, store, options, await load(store, options));
    } catch (err) {
      releaseStore(store);
      throw err;
    }
  }

  /** The encryption state as last committed (wrapped DEKs only; never key bytes). */
  get state(): EncryptionState {
    return this.#state;
  }

  /** The highest raft index applied (durable) or found already applied; `0n` when none. */
  get appliedIndex(): bigint {
    return this.#applied;
  }

  /** Ids of the DEKs held unwrapped in the keystore. */
  keyIds(): number[] {
    return this.#keystore.ids();
  }

  /**
   * Calls `listener` synchronously, in log order, for every entry once its effects are durable
   * (`result`), and for every halt once the entries before it are committed (`halt`). A
   * listener that throws is ignored. Returns the function that removes it.
   */
  onApplied(listener: (event: AppliedEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Applies one entry. Rejects with ERR_INVALID_ARGUMENT for a bad argument (nothing applied),
   * with a halt (`isHalt(err)`) when the entry must not be skipped, and with
   * ERR_NOT_ENCRYPTION_ENTRY (not a halt) when the opcode belongs to the host.
   */
  applyEntry(entry: Uint8Array, raftIndex?: bigint): Promise<ApplyResult> {
    let item: GroupItem;
    try {
      item = checkEntry(entry, raftIndex);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#closedRefusal() ?? this.#pending.addOne(item);
  }

  /**
   * Applies many entries with one durable write (group commit). Later entries see earlier ones'
   * effects. Every item is checked before any is applied: a bad one rejects the call with
   * ERR_INVALID_ARGUMENT and its `position`, and is treated like a halt — the items before it are
   * applied and committed, it and those after it change nothing. On a halt the entries before it
   * are committed, the halted one and those after it are not, and the error's `position` (and
   * `index`, when given) says which halted.
   */
  applyEntries(entries: Iterable<IndexedEntry>): Promise<ApplyResult[]> {
    let checked: ReturnType<typeof checkEntries>;
    try {
      checked = checkEntries(entries);
    } catch (err) {
      return Promise.reject(err);
    }
    const { items, invalid } = checked;
    if (invalid === undefined) return this.#enqueue(items, true);
    if (items.length === 0) return Promise.reject(invalid);
    // Like a halt: the entries before the bad item commit; it and the ones after it change nothing.
    return this.#enqueue(items, true).then(() => Promise.reject(invalid));
  }

  /**
   * Lets every call made before it finish, then releases the store for another Applier and
   * zero-fills the keystore. Calls made after it reject with ERR_APPLIER_CLOSED. Does not close the store.
   */
  close(): Promise<void> {
    this.#closing ??= this.#pending.idle().then(() => {
      this.#keystore.close();
      releaseStore(this.#store);
    });
    return this.#closing;
  }

  #enqueue(items: GroupItem[], grouped: boolean): Promise<ApplyResult[]> {
    return this.#closedRefusal() ?? this.#pending.add(items, grouped);
  }

  #closedRefusal(): Promise<never> | undefined {
    if (this.#closing === undefined) return undefined;
    return Promise.reject(new KeyledgerError(ErrorCode.APPLIER_CLOSED, 'the applier is closed: open a new one with Applier.open'));
  }

  /**
   * Applies the coalesced calls as one group and settles them: the calls before the first stop
   * resolve, the stopped one rejects, and the calls after it go back to the queue, to be applied
   * next exactly as if they had been made one by one. Returns at once over a synchronous backend.
   */
  #commit(calls: PendingCall[]): MaybeAsync<PendingCall[]> {
    const items = calls.length === 1 ? calls[0]!.items : itemsOf(calls);
    const base = { store: this.#store, state: this.#state, keystore: this.#keystore, options: this.#options, applied: this.#applied };
    let applying: MaybeAsync<GroupOutcome>;
    try {
      applying = applyGroup(base, items);
    } catch (err) {
      return this.#unwritten(calls, undefined, err);
    }
    const write = (outcome: GroupOutcome): MaybeAsync<PendingCall[]> => {
      let writing: MaybeAsync<void>;
      try {
        const puts = groupPuts(outcome, base.applied);
        // Every put's bytes are the group's own (its buffers, fresh records) or core's STATE_KEY and
        // APPLIED_KEY constants: none is written again, as writeHandedOver requires.
        writing = puts.length > 0 ? writeHandedOver(this.#store, puts) : undefined;
      } catch (err) {
        return this.#unwritten(calls, outcome, err);
      }
      if (!isThenable(writing)) return this.#written(calls, outcome);
      return writing.then(
        () => this.#written(calls, outcome),
        (err: unknown) => this.#unwritten(calls, outcome, err),
      );
    };
    if (!isThenable(applying)) return write(applying);
    return applying.then(write, (err: unknown) => this.#unwritten(calls, undefined, err));
  }

  /**
   * Nothing in the group reached the store: the first call is where the host resumes, and the
   * others are retried as they would have been after it.
   */
  #unwritten(calls: PendingCall[], outcome: GroupOutcome | undefined, err: unknown): PendingCall[] {
    outcome?.txn.takeKeyAdds()?.close();
    const first = calls[0]!;
    first.reject(this.#halted(err, first.items[0]?.index, first.grouped ? 0 : undefined));
    return calls.slice(1);
  }

  /** The group's write is durable: its keys, state and applied index become the applier's. */
  #written(calls: PendingCall[], outcome: GroupOutcome): PendingCall[] {
    const adds = outcome.txn.takeKeyAdds();
    if (adds !== undefined) {
      for (const id of adds.ids()) this.#keystore.add(id, adds.get(id)!);
      adds.close();
    }
    this.#state = outcome.txn.state;
    this.#applied = outcome.applied;
    return this.#settle(calls, outcome);
  }

  #settle(calls: PendingCall[], outcome: GroupOutcome): PendingCall[] {
    let offset = 0;
    for (let k = 0; k < calls.length; k++) {
      const call = calls[k]!;
      const end = offset + call.items.length;
      const stopped = outcome.stopAt < end;
      const upTo = stopped ? outcome.stopAt : end;
      if (this.#listeners.size > 0)
        for (let i = offset; i < upTo; i++) this.#emit({ index: call.items[i - offset]!.index, result: outcome.results[i]! });
      if (!stopped) {
        call.resolve(outcome.results, offset, end);
        offset = end;
        continue;
      }
      const position = outcome.stopAt - offset;
      const item = call.items[position]!;
      const err = this.#stopError(outcome.stop, item.index, call.grouped ? position : undefined);
      call.reject(err);
      return calls.slice(k + 1);
    }
    return [];
  }

  #stopError(stop: unknown, index: bigint | undefined, position: number | undefined): KeyledgerError {
    if (isKeyledgerError(stop) && stop.code === ErrorCode.NOT_ENCRYPTION_ENTRY) {
      return new KeyledgerError(ErrorCode.NOT_ENCRYPTION_ENTRY, stop.message, {
        ...(index === undefined ? {} : { index }),
        ...(position === undefined ? {} : { position }),
      });
    }
    return this.#halted(stop, index, position);
  }

  #halted(reason: unknown, index: bigint | undefined, position: number | undefined): KeyledgerError {
    const err = halt(reason, index, position);
    this.#emit({ index, halt: err });
    return err;
  }

  #emit(event: AppliedEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A listener never affects applying.
      }
    }
  }
}

/**
 * The coalesced calls' items in call order. A plain loop: V8's generic `flatMap` was 2% of a
 * pipelined SQLite run's CPU profile (64 one-entry calls per group), more than any other
 * function of the applier.
 */
function itemsOf(calls: readonly PendingCall[]): GroupItem[] {
  const items: GroupItem[] = [];
  for (let k = 0; k < calls.length; k++) {
    const own = calls[k]!.items;
    for (let i = 0; i < own.length; i++) items.push(own[i]!);
  }
  return items;
}
