import { decodeEntry } from '../codec/entry.js';
import { Keystore } from '../crypto/keystore.js';
import { ErrorCode, KeyledgerError, halt, hasCode, isKeyledgerError } from '../errors.js';
import { STATE_KEY, decodeState, emptyState, type EncryptionState } from '../state/encryption-state.js';
import type { RegistryStore } from '../store/registry-store.js';
import { applyBootstrap } from './apply-bootstrap.js';
import {
  applyRegistration,
  applyRegistrationEntry,
  isWellFormedRegistration,
  registrationKey,
  registrationRowId,
  type RegistrationEffect,
} from './apply-registration.js';
import { applyRotation } from './apply-rotation.js';
import { EntryTxn, GroupTxn, OneRowTxn, type RowId } from './apply-txn.js';
import type { ApplierOptions, ApplyResult, IndexedEntry } from './applier-options.js';

// Shared through the global symbol registry so that two copies of core in one process still
// see each other's holds: two appliers on one store would interleave unserialized writes.
const HELD = Symbol.for('keyledger.heldStores');
const registry = globalThis as Record<symbol, unknown>;
registry[HELD] ??= new WeakSet<object>();
const heldStores = registry[HELD] as WeakSet<object>;

function checkStore(store: unknown): asserts store is RegistryStore {
  if (store === null || store === undefined) {
    throw new KeyledgerError(ErrorCode.NIL_STORE, `Applier needs a RegistryStore, got ${String(store)}`);
  }
  const s = store as Partial<Record<keyof RegistryStore, unknown>>;
  const missing = (['get', 'write', 'scan', 'close'] as const).filter((m) => typeof s[m] !== 'function');
  if (typeof store !== 'object' || typeof s.kind !== 'string' || missing.length > 0) {
    throw new KeyledgerError(
      ErrorCode.UNSUPPORTED_STORE,
      `Applier needs a RegistryStore (kind, get, write, scan, close)${missing.length ? `; missing ${missing.join(', ')}` : ''}: pass an adapter such as SqliteRegistryStore`,
    );
  }
}

/**
 * Applies replicated encryption entries to durable local state (docs/design.md, 'Applier').
 *
 * Applies are serialized: concurrent calls behave as if made one after another in call order.
 * Each call's effects reach the store in one atomic, durable write before its promise resolves;
 * a halted entry changes nothing.
 *
 * @example
 * const applier = await Applier.open(store, { kek: await FileKek.open('kek.bin') });
 * await applier.applyEntry(encodeRegistration({ dekId: 1, fullNodeId: 7n, localEpoch: 1 }), 42n);
 */
export class Applier {
  readonly #store: RegistryStore;
  readonly #options: ApplierOptions;
  readonly #keystore = new Keystore();
  #state: EncryptionState = emptyState();
  #loaded: Promise<void> | undefined;
  /** True once a load has succeeded: applies then skip waiting on `#loaded`. */
  #isLoaded = false;
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(store: RegistryStore, options: ApplierOptions = {}) {
    checkStore(store);
    if (heldStores.has(store)) {
      throw new KeyledgerError(ErrorCode.STORE_IN_USE, `this ${store.kind} store is already held by another Applier; close that one first`);
    }
    heldStores.add(store);
    this.#store = store;
    this.#options = options;
  }

  /** Constructs an applier and loads its state (and keystore, with the KEK) before returning. */
  static async open(store: RegistryStore, options: ApplierOptions = {}): Promise<Applier> {
    const applier = new Applier(store, options);
    try {
      await applier.ready();
    } catch (err) {
      applier.#release();
      throw err;
    }
    return applier;
  }

  /**
   * Loads the stored state and rebuilds the keystore with the KEK. Rejects with
   * ERR_STATE_MALFORMED, ERR_KEK_MISMATCH or ERR_STORE_IO; a failed load is retried by the next call.
   */
  ready(): Promise<void> {
    this.#loaded ??= this.#load().catch((err: unknown) => {
      this.#loaded = undefined;
      throw err;
    });
    return this.#loaded;
  }

  async #load(): Promise<void> {
    const raw = await this.#store.get(STATE_KEY);
    const state = raw === undefined ? emptyState() : decodeState(raw);
    const kek = this.#options.kek;
    if (kek) {
      for (const [id, key] of state.keys) {
        let dek: Uint8Array;
        try {
          dek = await kek.unwrap(key.wrapped);
        } catch (err) {
          this.#keystore.close();
          if (hasCode(err, ErrorCode.KEK_MISMATCH)) throw err;
          throw new KeyledgerError(ErrorCode.KEK_MISMATCH, `the KEK cannot unwrap stored DEK ${id}`, { cause: err });
        }
        this.#keystore.add(id, dek);
        dek.fill(0);
      }
    }
    this.#state = state;
    this.#isLoaded = true;
  }

  /** The encryption state as last committed (wrapped DEKs only; never key bytes). */
  get state(): EncryptionState {
    return this.#state;
  }

  /** Ids of the DEKs held unwrapped in the keystore. */
  keyIds(): number[] {
    return this.#keystore.ids();
  }

  /**
   * Applies one entry. Rejects with a halt (`isHalt(err)`) when the entry must not be skipped,
   * and with ERR_NOT_ENCRYPTION_ENTRY (not a halt) when the opcode belongs to the host.
   */
  applyEntry(entry: Uint8Array, raftIndex?: bigint): Promise<ApplyResult> {
    if (isWellFormedRegistration(entry)) return this.#serialize(() => this.#applyOneRegistration(entry, raftIndex));
    return this.#serialize(() => this.#applyGroup([{ entry, index: raftIndex }], false).then(firstResult));
  }

  /**
   * Applies many entries with one durable write (group commit). Later entries see earlier
   * ones' effects. On a halt the entries before it are committed, the halted one and those
   * after it are not, and the error's `position` (and `index`, when given) says which halted.
   */
  applyEntries(entries: Iterable<IndexedEntry>): Promise<ApplyResult[]> {
    const items = [...entries];
    return this.#serialize(() => this.#applyGroup(items, true));
  }

  /** Releases the store for another Applier and zero-fills the keystore. Does not close the store. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#tail.catch(() => undefined);
    this.#release();
  }

  #release(): void {
    this.#keystore.close();
    heldStores.delete(this.#store);
  }

  #serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(() => {
      if (this.#closed) throw halt(new KeyledgerError(ErrorCode.UNSUPPORTED_STORE, 'applier is closed'));
      return task();
    });
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /**
   * `applyEntry` of a well-formed registration: what `#applyGroup` does for a group of one, without
   * the group's bookkeeping (its maps, its prefetch arrays, its keystore of staged DEKs). A
   * registration changes no state and stages no DEK; its one put is written alone or not at all.
   */
  async #applyOneRegistration(entry: Uint8Array, index: bigint | undefined): Promise<ApplyResult> {
    if (!this.#isLoaded) {
      try {
        await this.ready();
      } catch (err) {
        throw halt(err, index);
      }
    }
    const key = registrationKey(entry);
    let txn: OneRowTxn;
    let effect: RegistrationEffect;
    try {
      txn = new OneRowTxn(await this.#store.get(key));
      const applied = applyRegistrationEntry(txn, entry, registrationRowId(entry), key);
      effect = typeof applied === 'string' ? applied : await applied;
      if (txn.staged !== undefined) await this.#store.write([txn.staged]);
    } catch (err) {
      throw halt(err, index);
    }
    return { kind: 'registration', effect };
  }

  async #applyGroup(items: readonly IndexedEntry[], grouped: boolean): Promise<ApplyResult[]> {
    const at = (i: number) => (grouped ? i : undefined);
    if (!this.#isLoaded) {
      try {
        await this.ready();
      } catch (err) {
        throw halt(err, items[0]?.index, at(0));
      }
    }
    const group = new GroupTxn(this.#store, this.#state);
    const plan = planRegistrations(items);
    try {
      await group.prefetch(plan.prefetchKeys, plan.prefetchIds);
    } catch (err) {
      throw halt(err, items[0]?.index, at(0));
    }
    const results: ApplyResult[] = [];
    let stop: unknown;
    for (let i = 0; i < items.length; i++) {
      const { entry, index } = items[i]!;
      const key = plan.keys[i];
      if (key !== undefined) {
        // A well-formed registration touches one row and stages at most one put, as its last
        // step: it needs no per-entry staging to change nothing when it halts.
        try {
          const effect = applyRegistrationEntry(group, entry, plan.ids[i]!, key);
          results.push({ kind: 'registration', effect: typeof effect === 'string' ? effect : await effect });
          continue;
        } catch (err) {
          stop = halt(err, index, at(i));
          break;
        }
      }
      const txn = new EntryTxn(group, this.#keystore);
      try {
        results.push(await this.#dispatch(txn, entry, index));
        group.merge(txn);
      } catch (err) {
        txn.discard();
        stop =
          hasCode(err, ErrorCode.NOT_ENCRYPTION_ENTRY) && isKeyledgerError(err)
            ? new KeyledgerError(ErrorCode.NOT_ENCRYPTION_ENTRY, err.message, {
                ...(index === undefined ? {} : { index }),
                ...(grouped ? { position: i } : {}),
              })
            : halt(err, index, at(i));
        break;
      }
    }
    if (!group.isEmpty) {
      try {
        await this.#store.write(group.puts());
      } catch (err) {
        group.keyAdds.close();
        // Nothing in the group reached the store, so the first entry is where the host resumes.
        throw halt(err, items[0]?.index, at(0));
      }
      for (const id of group.keyAdds.ids()) this.#keystore.add(id, group.keyAdds.get(id)!);
      this.#state = group.state;
    }
    group.keyAdds.close();
    if (stop !== undefined) throw stop;
    return results;
  }

  #dispatch(txn: EntryTxn, entry: Uint8Array, index: bigint | undefined): Promise<ApplyResult> {
    const decoded = decodeEntry(entry);
    switch (decoded.kind) {
      case 'registration':
        return Promise.resolve(applyRegistration(txn, decoded)).then((effect) => ({ kind: 'registration', effect }));
      case 'bootstrap':
        return applyBootstrap(txn, decoded, index, this.#options).then((effect) => ({ kind: 'bootstrap', effect }));
      case 'rotation':
        return applyRotation(txn, decoded, index, this.#options).then((effect) => ({ kind: 'rotation', effect }));
    }
  }
}

function firstResult(results: ApplyResult[]): ApplyResult {
  return results[0]!;
}

/**
 * The group's well-formed registrations, found from their bytes alone: `keys[i]` and `ids[i]` are
 * entry i's registry key and row id (undefined for any other entry), and `prefetchKeys` /
 * `prefetchIds` list them for one batched read up front. A malformed registration is left to
 * `decodeEntry`, which halts with the precise error when its turn comes.
 */
function planRegistrations(items: readonly IndexedEntry[]): {
  keys: (Uint8Array | undefined)[];
  ids: (number | undefined)[];
  prefetchKeys: Uint8Array[];
  prefetchIds: RowId[];
} {
  const keys: (Uint8Array | undefined)[] = new Array(items.length);
  const ids: (number | undefined)[] = new Array(items.length);
  const prefetchKeys: Uint8Array[] = [];
  const prefetchIds: RowId[] = [];
  for (let i = 0; i < items.length; i++) {
    const entry = items[i]?.entry;
    if (!isWellFormedRegistration(entry)) continue;
    const key = registrationKey(entry);
    const id = registrationRowId(entry);
    keys[i] = key;
    ids[i] = id;
    prefetchKeys.push(key);
    prefetchIds.push(id);
  }
  return { keys, ids, prefetchKeys, prefetchIds };
}
