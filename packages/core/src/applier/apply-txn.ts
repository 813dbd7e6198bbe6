import { hexOf } from '../bytes.js';
import { Keystore } from '../crypto/keystore.js';
import { STATE_KEY, encodeState, type EncryptionState } from '../state/encryption-state.js';
import type { RegistryStore, StoreEntry } from '../store/registry-store.js';

/**
 * What a group of entries will commit in its one durable write. Reads see the group's own puts
 * first, then rows prefetched for the group, then the store, so later entries in a group see
 * the effects of earlier ones without a write in between.
 */
export class GroupTxn {
  readonly #store: RegistryStore;
  readonly #puts = new Map<string, StoreEntry>();
  readonly #prefetched = new Map<string, Uint8Array | undefined>();
  /** DEKs the group will add to the applier's keystore once its write is durable. */
  readonly keyAdds = new Keystore();
  state: EncryptionState;
  stateDirty = false;

  constructor(store: RegistryStore, state: EncryptionState) {
    this.#store = store;
    this.state = state;
  }

  /** Loads `keys` with one batched read when the store offers `getMany`. */
  async prefetch(keys: readonly Uint8Array[]): Promise<void> {
    const missing = keys.filter((k) => !this.#prefetched.has(hexOf(k)));
    if (missing.length === 0) return;
    const values = this.#store.getMany ? await this.#store.getMany(missing) : await Promise.all(missing.map((k) => this.#store.get(k)));
    missing.forEach((k, i) => this.#prefetched.set(hexOf(k), values[i]));
  }

  async read(key: Uint8Array, id: string): Promise<Uint8Array | undefined> {
    const own = this.#puts.get(id);
    if (own) return own.value;
    if (this.#prefetched.has(id)) return this.#prefetched.get(id);
    return this.#store.get(key);
  }

  merge(entry: EntryTxn): void {
    for (const [id, p] of entry.puts) this.#puts.set(id, p);
    for (const id of entry.keyAdds.ids()) this.keyAdds.add(id, entry.keyAdds.get(id)!);
    entry.keyAdds.close();
    if (entry.stateDirty) {
      this.state = entry.state;
      this.stateDirty = true;
    }
  }

  /** Everything the group commits, state record included, for one atomic write. */
  puts(): StoreEntry[] {
    const out = [...this.#puts.values()];
    if (this.stateDirty) out.push({ key: STATE_KEY, value: encodeState(this.state) });
    return out;
  }

  get isEmpty(): boolean {
    return this.#puts.size === 0 && !this.stateDirty;
  }
}

/**
 * One entry's staged effects. Nothing here touches the store or the keystore: a halted entry is
 * simply dropped, which is what makes "a halted entry changes nothing" hold by construction.
 */
export class EntryTxn {
  readonly #group: GroupTxn;
  readonly #keystore: Keystore;
  readonly puts = new Map<string, StoreEntry>();
  readonly keyAdds = new Keystore();
  state: EncryptionState;
  stateDirty = false;

  constructor(group: GroupTxn, keystore: Keystore) {
    this.#group = group;
    this.#keystore = keystore;
    this.state = group.state;
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const id = hexOf(key);
    const own = this.puts.get(id);
    if (own) return own.value;
    return this.#group.read(key, id);
  }

  put(key: Uint8Array, value: Uint8Array): void {
    this.puts.set(hexOf(key), { key, value });
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
