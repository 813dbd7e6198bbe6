import { createHash } from 'node:crypto';
import type { RegistryStore, StoreEntry } from '@keyledger/core';

const MOD = 2 ** 48;

/** A row's contribution to a {@link StoreDigest}: 48 bits of SHA-256 over key ‖ 0xFF ‖ value. */
function rowHash(keyHex: string, valueHex: string): number {
  return createHash('sha256').update(keyHex).update('|').update(valueHex).digest().readUIntBE(0, 6);
}

/**
 * An order-independent digest of a store's whole content (row count and the sum of row hashes),
 * maintained incrementally as rows change, so that the reference run can record the digest after
 * every one of 20,000 entries cheaply and a crashed store can be matched to the log prefix it holds.
 */
export class StoreDigest {
  readonly rows = new Map<string, string>();
  #sum = 0;

  put(keyHex: string, valueHex: string): void {
    const old = this.rows.get(keyHex);
    if (old !== undefined) this.#sum = (this.#sum - rowHash(keyHex, old) + MOD) % MOD;
    this.rows.set(keyHex, valueHex);
    this.#sum = (this.#sum + rowHash(keyHex, valueHex)) % MOD;
  }

  get value(): string {
    return `${this.rows.size}:${this.#sum}`;
  }
}

export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** Every row of `store`, in scan order, as hex pairs. */
export async function scanHex(store: RegistryStore): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const e of store.scan(new Uint8Array(0))) out.push([hex(e.key), hex(e.value)]);
  return out;
}

export function digestOf(rows: Iterable<[string, string]>): StoreDigest {
  const d = new StoreDigest();
  for (const [k, v] of rows) d.put(k, v);
  return d;
}

export type { StoreEntry };
