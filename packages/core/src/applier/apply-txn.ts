import { Keystore } from '../crypto/keystore.js';
import { ErrorCode, KeyledgerError } from '../errors.js';
import type { EncryptionState } from '../state/encryption-state.js';
import type { RegistryStore, StoreEntry } from '../store/registry-store.js';

/** What a registration needs from a transaction: read a prefetched row, stage a put. Slots are `registrySlot(key)`. */
export interface RowTxn {
  readRow(slot: number): Uint8Array | undefined;
  putRow(slot: number, key: Uint8Array, value: Uint8Array): void;
}

/**
 * What a group of entries will commit in its one durable write. The one transaction shape of
 * the applier: the rows the group needs are prefetched (one `getMany` when the store has it),
 * then every read and put is synchronous. Reads see the group's own puts first, so later
 * entries see the effects of earlier ones without a write in between.
 */
export class GroupTxn implements RowTxn {
  /** Rows the group knows: prefetched (undefined = absent) or put by the group. */
  readonly #known = new Map<number, Uint8Array | undefined>();
  readonly #puts = new Map<number, StoreEntry>();
  /** DEKs the group will add to the applier's keystore once its write is durable. */
  readonly keyAdds = new Keystore();
  state: EncryptionState;
  stateDirty = false;

  constructor(state: EncryptionState) {
    this.state = state;
  }

  /**
   * Loads the rows the group will read; `slots[i]` is `registrySlot(keys[i])`. A key named
   * twice is read once. A failure leaves the group unusable: the applier then writes nothing.
   */
  async prefetch(store: RegistryStore, keys: readonly Uint8Array[], slots: readonly number[]): Promise<void> {
    const missing: Uint8Array[] = [];
    const missingSlots: number[] = [];
    for (let i = 0; i < keys.length; i++) {
      const slot = slots[i]!;
      if (this.#known.has(slot)) continue;
      this.#known.set(slot, undefined);
      missing.push(keys[i]!);
      missingSlots.push(slot);
    }
    if (missing.length === 0) return;
    const values = store.getMany ? await store.getMany(missing) : await Promise.all(missing.map((k) => store.get(k)));
    for (let i = 0; i < missingSlots.length; i++) this.#known.set(missingSlots[i]!, values[i]);
  }

  readRow(slot: number): Uint8Array | undefined {
    // An unfetched row read as absent would re-open a slot: the plan fetches every row a group
    // reads, so reaching this is a bug, and it halts.
    if (!this.#known.has(slot)) throw new KeyledgerError(ErrorCode.INTERNAL, `registry slot ${slot} was read without being prefetched`);
    return this.#known.get(slot);
  }

  putRow(slot: number, key: Uint8Array, value: Uint8Array): void {
    this.#known.set(slot, value);
    this.#puts.set(slot, { key, value });
  }

  merge(entry: EntryTxn): void {
    for (const [slot, p] of entry.puts) this.putRow(slot, p.key, p.value);
    for (const id of entry.keyAdds.ids()) this.keyAdds.add(id, entry.keyAdds.get(id)!);
    entry.keyAdds.close();
    if (entry.stateDirty) {
      this.state = entry.state;
      this.stateDirty = true;
    }
  }

  /** The registry rows the group commits. */
  rowPuts(): StoreEntry[] {
    return [...this.#puts.values()];
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
  readonly puts = new Map<number, StoreEntry>();
  readonly keyAdds = new Keystore();
  state: EncryptionState;
  stateDirty = false;

  constructor(group: GroupTxn, keystore: Keystore) {
    this.#group = group;
    this.#keystore = keystore;
    this.state = group.state;
  }

  readRow(slot: number): Uint8Array | undefined {
    const own = this.puts.get(slot);
    return own ? own.value : this.#group.readRow(slot);
  }

  putRow(slot: number, key: Uint8Array, value: Uint8Array): void {
    this.puts.set(slot, { key, value });
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
