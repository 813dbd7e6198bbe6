import { join } from 'node:path';
import * as core from '@keyledger/core';
import { decodeEnvelope, type Kek, type RegistryStore } from '@keyledger/core';
import { tempDirs } from '@keyledger/harness/adapter';
import { replicatedView as viewOf } from '@keyledger/harness/etcd';
import { expect } from 'vitest';
import { EtcdLedger, type EtcdLedgerOptions } from '../../src/index.js';

/** The replicated part of a node's store (see `@keyledger/harness/etcd`): equal on every node of one log. */
export function replicatedView(store: RegistryStore): ReturnType<typeof viewOf> {
  return viewOf(store, core);
}
import { LevelRegistryStore } from '@keyledger/level';
import { LmdbRegistryStore } from '@keyledger/lmdb';
import { SqliteRegistryStore } from '@keyledger/sqlite';

export type StoreKind = 'lmdb' | 'level' | 'sqlite';

/** This test file's temporary directories (stores, KEK files), removed after its cases have run. */
const fileTempDirs = tempDirs('etcd');

/** A fresh temporary directory; `tag` names what it holds. */
export function tempDir(tag: string): string {
  return fileTempDirs(tag);
}

export async function openStore(kind: StoreKind, dir: string): Promise<RegistryStore> {
  switch (kind) {
    case 'lmdb':
      return LmdbRegistryStore.open(join(dir, 'lmdb'));
    case 'level':
      return LevelRegistryStore.open(join(dir, 'level'));
    case 'sqlite':
      return SqliteRegistryStore.open(join(dir, 'keyledger.db'));
  }
}

export interface TestNode {
  kind: StoreKind;
  dir: string;
  nodeId: bigint;
  store: RegistryStore;
  ledger: EtcdLedger;
}

/** Starts (or restarts, given `dir`) one node on a fresh or existing local store. */
export async function startNode(
  hosts: string[],
  prefix: string,
  kek: Kek,
  kind: StoreKind,
  nodeId: bigint,
  dir = tempDir(kind),
  extra: Partial<EtcdLedgerOptions> = {},
): Promise<TestNode> {
  const store = await openStore(kind, dir);
  try {
    const ledger = await EtcdLedger.start({
      etcd: { hosts },
      prefix,
      store,
      kek,
      nodeId,
      resyncIntervalMs: 300,
      leaseTtlSeconds: 2,
      ...extra,
    });
    return { kind, dir, nodeId, store, ledger };
  } catch (err) {
    await store.close();
    throw err;
  }
}

export async function stopNode(n: TestNode): Promise<void> {
  await n.ledger.close();
  await n.store.close();
}

export async function stopNodes(nodes: TestNode[]): Promise<void> {
  for (const n of nodes) await stopNode(n);
}

/**
 * Waits until the log stops moving (every node registered under the active DEK and applied the
 * head), then expects each node's replicated view to equal the first node's.
 */
export async function expectConverged(nodes: TestNode[]): Promise<bigint> {
  let head = -1n;
  for (;;) {
    await Promise.all(nodes.map((n) => n.ledger.ready()));
    const now = await nodes[0]!.ledger.catchUp();
    for (const n of nodes) await n.ledger.waitForApplied(now);
    if (now === head) break;
    head = now;
  }
  const views = await Promise.all(nodes.map((n) => replicatedView(n.store)));
  for (const v of views) expect(v).toEqual(views[0]);
  return head;
}

/** Every nonce handed out in a scenario, per DEK: a repeat fails the test. */
export class NonceLedger {
  readonly #seen = new Map<string, string>();
  count = 0;

  /** Encrypts `n` values on `node`, records each nonce, and checks another node can open them. */
  async encryptOn(node: TestNode, n: number, reader: TestNode = node): Promise<void> {
    for (let i = 0; i < n; i++) {
      const context = new TextEncoder().encode(`record-${node.nodeId}-${this.count}`);
      const plain = new TextEncoder().encode(`value ${this.count}`);
      const sealed = await node.ledger.encrypt(plain, context);
      this.record(sealed, `node 0x${node.nodeId.toString(16)}`);
      await reader.ledger.waitForApplied(node.ledger.appliedIndex);
      expect(await reader.ledger.decrypt(sealed, context)).toEqual(plain);
    }
  }

  record(sealed: Uint8Array, who: string): void {
    const env = decodeEnvelope(sealed);
    const id = `${env.keyId}:${Buffer.from(env.nonce).toString('hex')}`;
    const earlier = this.#seen.get(id);
    expect(earlier, `nonce ${id} issued twice (${earlier} and ${who})`).toBeUndefined();
    this.#seen.set(id, who);
    this.count++;
  }
}
