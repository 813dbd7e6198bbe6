import { APPLIED_INDEX_LENGTH } from '../codec/applied-index.js';
import { registrationKey, registrationSlot } from '../codec/registration.js';
import { REGISTRY_KEY_LENGTH } from '../codec/registry-key.js';
import { REGISTRY_ROW_LENGTH } from '../codec/registry-row.js';
import { Keystore } from '../crypto/keystore.js';
import { ErrorCode, KeyledgerError } from '../errors.js';
import type { EncryptionState } from '../state/encryption-state.js';
import { type MaybeAsync, andThen } from '../maybe-async.js';
import { getManyHandedOver } from '../store/base-registry-store.js';
import type { RegistryStore, StoreEntry } from '../store/registry-store.js';

/**
 * What a registration needs from a transaction: read a prefetched row, stage a put (the
 * transaction copies `row`, and knows the slot's key from its prefetch). Slots are `registrySlot(key)`.
 */
export interface RowTxn {
  readRow(slot: number): Uint8Array | undefined;
  putRow(slot: number, row: Uint8Array): void;
}

/**
 * The smallest buffer a {@link Slab} allocates: a sequential caller's groups share one for many
 * commits, and a pipelined host's groups of 64 lone calls one for about 38 of them (at 8 KiB, a
 * new buffer every fifth group was 0.8% of a pipelined SQLite run's CPU profile; each is a zeroed
 * allocation outside V8's heap).
 */
const SLAB_CHUNK = 65536;

/**
 * Byte strings carved from shared buffers, never written again once handed out: a group's keys
 * and rows are views of a few buffers instead of one small buffer each, which V8 would move off
 * its heap the first time a native binding touches it, and which lmdb would look up the address
 * of, per buffer (docs/design.md, 'Group commit'). The applier keeps one slab of each width for
 * all its groups, as Node's Buffer pool does, so a lone registration does not allocate a buffer.
 */
export class Slab {
  #buf = new Uint8Array(0);
  #at = 0;

  /** Makes room for `bytes` in one buffer, so a group's strings share it. */
  reserve(bytes: number): void {
    if (this.#at + bytes <= this.#buf.length) return;
    this.#buf = new Uint8Array(Math.max(bytes, SLAB_CHUNK));
    this.#at = 0;
  }

  take(width: number): Uint8Array {
    if (this.#at + width > this.#buf.length) this.reserve(width);
    const out = this.#buf.subarray(this.#at, this.#at + width);
    this.#at += width;
    return out;
  }
}

/** The slabs of every group: registry keys, and rows with the applied-index record. */
const keySlab = new Slab();
export const rowSlab = new Slab();

/**
 * What a group of entries will commit in its one durable write. The one transaction shape of
 * the applier: the rows the group needs are prefetched (one `getMany` when the store has it),
 * then every read and put is synchronous. Reads see the group's own puts first, so later
 * entries see the effects of earlier ones without a write in between.
 */
export class GroupTxn implements RowTxn {
  /** Per slot the group knows, its position in the arrays below. */
  readonly #at = new Map<number, number>();
  // At each position: the slot's registry key, and its row (prefetched, undefined = absent, or put by the group).
  readonly #keys: Uint8Array[] = [];
  readonly #rows: (Uint8Array | undefined)[] = [];
  /** Positions the group puts, in first-put order, and a mark per position. */
  readonly #puts: number[] = [];
  readonly #isPut: boolean[] = [];
  #keyAdds: Keystore | undefined;
  state: EncryptionState;
  stateDirty = false;

  /** `registrations`: about how many registrations the group holds, to size its buffers. */
  constructor(state: EncryptionState, registrations: number) {
    this.state = state;
    keySlab.reserve(REGISTRY_KEY_LENGTH * registrations);
    rowSlab.reserve(REGISTRY_ROW_LENGTH * registrations + APPLIED_INDEX_LENGTH);
  }

  /** DEKs the group will add to the applier's keystore once its write is durable (made on first use). */
  get keyAdds(): Keystore {
    this.#keyAdds ??= new Keystore();
    return this.#keyAdds;
  }

  /** The staged DEKs, if any, handed to the caller, who adds or zero-fills them. */
  takeKeyAdds(): Keystore | undefined {
    const adds = this.#keyAdds;
    this.#keyAdds = undefined;
    return adds;
  }

  #add(slot: number, key: Uint8Array): void {
    this.#at.set(slot, this.#keys.length);
    this.#keys.push(key);
    this.#rows.push(undefined);
    this.#isPut.push(false);
  }

  /**
   * Loads the rows of the registrations (16 entry bytes each) the group will apply, once per
   * group: at once over a synchronous backend, else the returned promise settles once they are in.
   * A slot named twice is read once. A failure (thrown or rejected) leaves the group unusable: the
   * applier then writes nothing.
   */
  prefetch(store: RegistryStore, registrations: readonly Uint8Array[]): MaybeAsync<void> {
    for (let i = 0; i < registrations.length; i++) {
      const reg = registrations[i]!;
      const slot = registrationSlot(reg);
      if (!this.#at.has(slot)) this.#add(slot, registrationKey(reg, keySlab.take(REGISTRY_KEY_LENGTH)));
    }
    if (this.#keys.length === 0) return;
    // The keys are views of this group's key buffer, and the array is not changed again.
    return andThen(getManyHandedOver(store, this.#keys), (values) => {
      for (let i = 0; i < values.length; i++) this.#rows[i] = values[i];
    });
  }

  readRow(slot: number): Uint8Array | undefined {
    return this.#rows[this.#known(slot)];
  }

  putRow(slot: number, row: Uint8Array): void {
    this.stage(slot, this.copyRow(row));
  }

  /** A copy of `row` in the group's row buffer. */
  copyRow(row: Uint8Array): Uint8Array {
    const own = rowSlab.take(REGISTRY_ROW_LENGTH);
    own.set(row);
    return own;
  }

  /** Stages a row the group already owns, for a slot it prefetched. */
  stage(slot: number, row: Uint8Array): void {
    const at = this.#known(slot);
    this.#rows[at] = row;
    if (!this.#isPut[at]) {
      this.#isPut[at] = true;
      this.#puts.push(at);
    }
  }

  /** The position of a prefetched slot. */
  #known(slot: number): number {
    const at = this.#at.get(slot);
    // An unfetched row read as absent would re-open a slot: the plan fetches every row a group
    // reads, so reaching this is a bug, and it halts.
    if (at === undefined) throw new KeyledgerError(ErrorCode.INTERNAL, `registry slot ${slot} was used without being prefetched`);
    return at;
  }

  merge(entry: EntryTxn): void {
    for (const [slot, row] of entry.puts) this.stage(slot, row);
    for (const id of entry.keyAdds.ids()) this.keyAdds.add(id, entry.keyAdds.get(id)!);
    entry.keyAdds.close();
    if (entry.stateDirty) {
      this.state = entry.state;
      this.stateDirty = true;
    }
  }

  /** The registry rows the group commits. */
  rowPuts(): StoreEntry[] {
    const out = new Array<StoreEntry>(this.#puts.length);
    for (let i = 0; i < this.#puts.length; i++) {
      const at = this.#puts[i]!;
      out[i] = { key: this.#keys[at]!, value: this.#rows[at]! };
    }
    return out;
  }
}

/**
 * One bootstrap's or rotation's staged effects over its group. Nothing here touches the store or
 * the keystore: a halted entry is simply dropped, which makes "a halted entry changes nothing"
 * hold by construction. (A registration entry needs no EntryTxn: it stages at most one put, as
 * its last step.)
 */
export class EntryTxn implements RowTxn {
  readonly #group: GroupTxn;
  readonly #keystore: Keystore;
  /** Rows staged by slot, already copied into the group's row buffer. */
  readonly puts = new Map<number, Uint8Array>();
  readonly keyAdds = new Keystore();
  state: EncryptionState;
  stateDirty = false;

  constructor(group: GroupTxn, keystore: Keystore) {
    this.#group = group;
    this.#keystore = keystore;
    this.state = group.state;
  }

  readRow(slot: number): Uint8Array | undefined {
    return this.puts.get(slot) ?? this.#group.readRow(slot);
  }

  putRow(slot: number, row: Uint8Array): void {
    this.puts.set(slot, this.#group.copyRow(row));
  }

  setState(next: EncryptionState): void {
    this.state = next;
    this.stateDirty = true;
  }

  /**
   * Stages a DEK under the keystore's rules, checked against the held keys and everything staged
   * earlier in the group, so a conflict halts before anything is written.
   */
  stageKey(id: number, dek: Uint8Array): void {
    this.#keystore.assertCanAdd(id, dek);
    this.#group.keyAdds.assertCanAdd(id, dek);
    this.keyAdds.add(id, dek);
  }

  /** Drops what a halted entry staged; its DEK copies are zero-filled. */
  discard(): void {
    this.keyAdds.close();
  }
}
