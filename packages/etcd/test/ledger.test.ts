import { join } from 'node:path';
import { ErrorCode, FileKek, encodeRegistration, hasCode } from '@keyledger/core';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EtcdLedger, EtcdLog } from '../src/index.js';
import { EtcdCluster, etcdMissing } from '@keyledger/harness/etcd';
import {
  NonceLedger,
  expectConverged,
  openStore,
  replicatedView,
  startNode,
  stopNodes,
  tempDir,
  type StoreKind,
  type TestNode,
} from './support/nodes.js';

const missing = etcdMissing();
if (missing) console.warn(`SKIP @keyledger/etcd cluster tests: ${missing}`);

let cluster: EtcdCluster;
let kek: FileKek;
let prefixCount = 0;

async function startNodes(prefix: string, kinds: StoreKind[], ids: bigint[]): Promise<TestNode[]> {
  return Promise.all(kinds.map((kind, i) => startNode(cluster.hosts, prefix, kek, kind, ids[i]!)));
}

function freshPrefix(): string {
  return `keyledger-test/${process.pid}/${++prefixCount}`;
}

describe.skipIf(missing !== undefined)('EtcdLedger on a real 3-member etcd cluster', () => {
  beforeAll(async () => {
    cluster = await EtcdCluster.start(3);
    kek = await FileKek.generate(join(tempDir('kek'), 'kek'));
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('three nodes on LMDB, LevelDB and SQLite race to bootstrap, encrypt, rotate concurrently and converge', async () => {
    const prefix = freshPrefix();
    const nodes = await startNodes(prefix, ['lmdb', 'level', 'sqlite'], [0x1001n, 0x1002n, 0x1003n]);
    const nonces = new NonceLedger();
    try {
      const log = new EtcdLog(new Etcd3({ hosts: cluster.hosts }), prefix);
      const page = await log.read(1n, 100);
      log.client.close();
      // Exactly one bootstrap (opcode 0x04) in the log, at 1; the rest are the three registrations.
      expect(page.entries.map((e) => e.entry[0])).toEqual([0x04, 0x03, 0x03, 0x03]);
      for (const [i, n] of nodes.entries()) await nonces.encryptOn(n, 5, nodes[(i + 1) % 3]);
      // Concurrent rotations from every node: serialized by the head compare, distinct DEK ids.
      const seqs = await Promise.all(nodes.map((n) => n.ledger.rotate()));
      expect(new Set(seqs).size).toBe(3);
      for (const [i, n] of nodes.entries()) await nonces.encryptOn(n, 5, nodes[(i + 2) % 3]);
      await expectConverged(nodes);
      expect([...nodes[0]!.ledger.state.keys.keys()].sort()).toEqual([1, 2, 3, 4, 5]);
      for (const n of nodes) expect(n.ledger.encryptor?.dekId).toBe(5);
      expect(nonces.count).toBe(30);
    } finally {
      await stopNodes(nodes);
    }
  });

  it('follows by the watch alone: entries delivered while a range read is in flight are not lost', async () => {
    const prefix = freshPrefix();
    // A re-read every minute: only the watch (and the reads waitForApplied asks for) move the nodes.
    const nodes = await Promise.all(
      (['lmdb', 'level', 'sqlite'] as const).map((kind, i) =>
        startNode(cluster.hosts, prefix, kek, kind, 0x1101n + BigInt(i), undefined, { resyncIntervalMs: 60_000 }),
      ),
    );
    const client = new Etcd3({ hosts: cluster.hosts });
    const log = new EtcdLog(client, prefix);
    try {
      for (let epoch = 1; epoch <= 60; epoch++) {
        const head = await log.head();
        expect(await log.appendAt(head, encodeRegistration({ dekId: 1, fullNodeId: 0xfeedn, localEpoch: epoch }))).toBe(true);
        await Promise.all(nodes.map((n) => n.ledger.waitForApplied(head + 1n)));
      }
      await expectConverged(nodes);
    } finally {
      client.close();
      await stopNodes(nodes);
    }
  });

  it('drops a duplicate delivery, and halts loudly on a gap instead of skipping it, store unchanged', async () => {
    const prefix = freshPrefix();
    const halts: unknown[] = [];
    const store = await openStore('sqlite', tempDir('gap'));
    const ledger = await EtcdLedger.start({
      etcd: { hosts: cluster.hosts },
      prefix,
      store,
      kek,
      nodeId: 0x2001n,
      resyncIntervalMs: 200,
      onHalt: (e) => halts.push(e),
    });
    const client = new Etcd3({ hosts: cluster.hosts });
    const log = new EtcdLog(client, prefix);
    try {
      const reg = encodeRegistration({ dekId: 1, fullNodeId: 0x77n, localEpoch: 5 });
      const at = (await log.head()) + 1n;
      expect(await log.appendAt(at - 1n, reg)).toBe(true);
      await ledger.waitForApplied(at);
      // Re-put the entry with the same bytes: the watch delivers it again; nothing changes.
      const before = await replicatedView(store);
      await client.put(log.keys.entry(at)).value(Buffer.from(reg));
      await new Promise((r) => setTimeout(r, 500));
      expect(await replicatedView(store)).toEqual(before);
      expect(ledger.halt).toBeUndefined();
      // An entry written past a hole (outside keyledger): the node must stop, not skip the hole.
      await client.put(log.keys.entry(at + 2n)).value(Buffer.from(encodeRegistration({ dekId: 1, fullNodeId: 0x78n, localEpoch: 1 })));
      await client.put(log.keys.head).value((at + 2n).toString());
      await expect(ledger.waitForApplied(at + 2n)).rejects.toSatisfy((e) => hasCode(e, ErrorCode.LOG_GAP));
      expect(ledger.appliedIndex).toBe(at);
      expect(await replicatedView(store)).toEqual(before);
      expect(halts).toHaveLength(1);
    } finally {
      client.close();
      await ledger.close();
      await store.close();
    }
  });

  it('a rolled-back registration halts every node at its index, with the reason, and changes no store', async () => {
    const prefix = freshPrefix();
    const nodes = await startNodes(prefix, ['lmdb', 'sqlite'], [0x3001n, 0x3002n]);
    const client = new Etcd3({ hosts: cluster.hosts });
    const log = new EtcdLog(client, prefix);
    try {
      const head = await log.head();
      expect(await log.appendAt(head, encodeRegistration({ dekId: 1, fullNodeId: 0x99n, localEpoch: 9 }))).toBe(true);
      await expectConverged(nodes);
      const before = await Promise.all(nodes.map((n) => replicatedView(n.store)));
      const bad = head + 2n;
      expect(await log.appendAt(head + 1n, encodeRegistration({ dekId: 1, fullNodeId: 0x99n, localEpoch: 3 }))).toBe(true);
      for (const n of nodes) {
        const err = await n.ledger.waitForApplied(bad).catch((e: unknown) => e);
        expect(hasCode(err, ErrorCode.LEDGER_HALTED)).toBe(true);
        expect(hasCode(err, ErrorCode.LOCAL_EPOCH_ROLLBACK)).toBe(true);
        expect((err as { index: bigint }).index).toBe(bad);
        expect((err as Error).message).toContain(`log entry ${bad} (opcode 0x03)`);
      }
      expect(await Promise.all(nodes.map((n) => replicatedView(n.store)))).toEqual(before);
    } finally {
      client.close();
      await stopNodes(nodes);
    }
  });

  it('survives an etcd member killed and restarted mid-run, a leader change and a compaction', async () => {
    const prefix = freshPrefix();
    const nodes = await startNodes(prefix, ['lmdb', 'level', 'sqlite'], [0x4001n, 0x4002n, 0x4003n]);
    const nonces = new NonceLedger();
    try {
      const run = (async () => {
        for (let i = 0; i < 6; i++) {
          await nodes[i % 3]!.ledger.rotate();
          await nonces.encryptOn(nodes[(i + 1) % 3]!, 3);
        }
      })();
      cluster.kill(2);
      await nodes[0]!.ledger.rotate();
      await nonces.encryptOn(nodes[2]!, 3);
      await cluster.restart(2);
      await cluster.moveLeader();
      await nodes[1]!.ledger.rotate();
      await run;
      await cluster.compact();
      await nodes[2]!.ledger.rotate();
      await nonces.encryptOn(nodes[0]!, 3, nodes[1]);
      await expectConverged(nodes);
      expect(nodes[0]!.ledger.state.keys.size).toBe(2 + 9);
      for (const n of nodes) expect(n.ledger.halt).toBeUndefined();
    } finally {
      await stopNodes(nodes);
    }
  });

  it("an idle node's resyncs read the log and its head, never the snapshot (it is read and decoded whole)", async () => {
    const [node] = await startNodes(freshPrefix(), ['sqlite'], [0x1201n]);
    const snapshotReads = vi.spyOn(EtcdLog.prototype, 'readSnapshot');
    const rangeReads = vi.spyOn(EtcdLog.prototype, 'read');
    try {
      // startNode resyncs every 300 ms: about five resyncs of a caught-up node.
      await new Promise((resolve) => setTimeout(resolve, 1600));
      expect(rangeReads.mock.calls.length).toBeGreaterThanOrEqual(3);
      expect(snapshotReads).not.toHaveBeenCalled();
    } finally {
      snapshotReads.mockRestore();
      rangeReads.mockRestore();
      await stopNodes([node!]);
    }
  });
});
