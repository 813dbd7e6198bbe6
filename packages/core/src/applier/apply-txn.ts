import { hexOf, readU16BE, readU32BE } from '../bytes.js';
import { isRegistryKey } from '../codec/registry-key.js';
import { Keystore } from '../crypto/keystore.js';
import { STATE_KEY, encodeState, type EncryptionState } from '../state/encryption-state.js';
import type { RegistryStore, StoreEntry } from '../store/registry-store.js';

/**
 * How a group tells store keys apart in its maps. A registry key is the number
 * `dek_id × 2^16 + node_id16` (below 2^48, so exact, and cheap to compute and hash); any other
 * key is its hex string. A number never equals a string, so the two kinds cannot collide.
 */
export type RowId = number | string;

export function rowId(key: Uint8Array): RowId {
  return isRegistryKey(key) ? readU32BE(key, 20) * 0x10000 + readU16BE(key, 25) : hexOf(key);
}

/** A row read: the value at once when the group already knows it, otherwise the store's answer. */
export type RowRead = Uint8Array | undefined | Promise<Uint8Array | undefined>;

/** What a registration needs from a transaction: read a row, stage a put. */
export interface RowTxn {
  readRow(key: Uint8Array, id: RowId): RowRead;
  putRow(id: RowId, key: Uint8Array, value: Uint8Array): void;
}

/**
 * What a group of entries will commit in its one durable write. Reads see the group's own puts
 * first, then rows prefetched for the group, then the store, so later entries in a group see
 * the effects of earlier ones without a write in between.
 */
export class GroupTxn implements RowTxn {
  readonly #store: RegistryStore;
  /** Rows the group knows without asking the store: prefetched (undefined = absent) or put by the group. */
  readonly #known = new Map<RowId, Uint8Array | undefined>();
  readonly #puts = new Map<RowId, StoreEntry>();
  /** DEKs the group will add to the applier's keystore once its write is durable. */
  readonly keyAdds = new Keystore();
  state: EncryptionState;
  stateDirty = false;

  constructor(store: RegistryStore, state: EncryptionState) {
    this.#store = store;
    this.state = state;
  }

  /**
   * Loads rows the group will read with one batched read when the store offers `getMany`, else
   * one `get` per key. `ids[i]` is `rowId(keys[i])`; keys already known are not read again. A
   * failure leaves the group unusable, which is fine: the applier then halts without writing.
   */
  async prefetch(keys: readonly Uint8Array[], ids: readonly RowId[]): Promise<void> {
    const missing: Uint8Array[] = [];
    const missingIds: RowId[] = [];
    for (let i = 0; i < keys.length; i++) {
      const id = ids[i]!;
      if (this.#known.has(id)) continue;
      // Marked at once so that a key named twice in the group is read once.
      this.#known.set(id, undefined);
      missing.push(keys[i]!);
      missingIds.push(id);
    }
    if (missing.length === 0) return;
    const values = this.#store.getMany ? await this.#store.getMany(missing) : await Promise.all(missing.map((k) => this.#store.get(k)));
    for (let i = 0; i < missingIds.length; i++) this.#known.set(missingIds[i]!, values[i]);
  }

  readRow(key: Uint8Array, id: RowId): RowRead {
    if (this.#known.has(id)) return this.#known.get(id);
    return this.#store.get(key);
  }

  putRow(id: RowId, key: Uint8Array, value: Uint8Array): void {
    this.#known.set(id, value);
    this.#puts.set(id, { key, value });
  }

  merge(entry: EntryTxn): void {
    for (const [id, p] of entry.puts) this.putRow(id, p.key, p.value);
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
export class EntryTxn implements RowTxn {
  readonly #group: GroupTxn;
  readonly #keystore: Keystore;
  readonly puts = new Map<RowId, StoreEntry>();
  readonly keyAdds = new Keystore();
  state: EncryptionState;
  stateDirty = false;

  constructor(group: GroupTxn, keystore: Keystore) {
    this.#group = group;
    this.#keystore = keystore;
    this.state = group.state;
  }

  readRow(key: Uint8Array, id: RowId): RowRead {
    const own = this.puts.get(id);
    if (own) return own.value;
    return this.#group.readRow(key, id);
  }

  putRow(id: RowId, key: Uint8Array, value: Uint8Array): void {
    this.puts.set(id, { key, value });
  }

  /** What `key` holds as this entry sees it: its own puts, then the group's, then the store. */
  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.readRow(key, rowId(key));
  }

  put(key: Uint8Array, value: Uint8Array): void {
    this.putRow(rowId(key), key, value);
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

/**
 * The transaction of a lone registration applied with `applyEntry`: the one row it reads, already
 * fetched, and the one put it may stage. A halted registration stages nothing, so dropping this
 * object is all that "a halted entry changes nothing" asks of it.
 */
export class OneRowTxn implements RowTxn {
  readonly #stored: Uint8Array | undefined;
  staged: StoreEntry | undefined;

  constructor(stored: Uint8Array | undefined) {
    this.#stored = stored;
  }

  readRow(): Uint8Array | undefined {
    return this.#stored;
  }

  putRow(_id: RowId, key: Uint8Array, value: Uint8Array): void {
    this.staged = { key, value };
  }
}
