import { join } from 'node:path';
import { FileKek } from '@keyledger/core';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EtcdLog } from '../src/index.js';
import { decodeSnapshot } from '../src/snapshot.js';
import { EtcdCluster, etcdMissing } from './support/etcd-cluster.js';
import { expectConverged, startNode, stopNode, stopNodes, tempDir, type TestNode } from './support/nodes.js';

const missing = etcdMissing();
if (missing) console.warn(`SKIP @keyledger/etcd truncation tests: ${missing}`);

let cluster: EtcdCluster;
let kek: FileKek;

describe.skipIf(missing !== undefined)('log truncation and snapshots on a real etcd cluster', () => {
  beforeAll(async () => {
    cluster = await EtcdCluster.start(3);
    kek = await FileKek.generate(join(tempDir('kek'), 'kek'));
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('a node down across a compaction and a truncation restores from the snapshot and converges', async () => {
    const prefix = `keyledger-test/${process.pid}/trunc`;
    const nodes: TestNode[] = [];
    const client = new Etcd3({ hosts: cluster.hosts });
    const log = new EtcdLog(client, prefix);
    try {
      nodes.push(await startNode(cluster.hosts, prefix, kek, 'lmdb', 0x5001n));
      nodes.push(await startNode(cluster.hosts, prefix, kek, 'level', 0x5002n));
      let late = await startNode(cluster.hosts, prefix, kek, 'sqlite', 0x5003n);
      await nodes[0]!.ledger.rotate();
      await expectConverged([...nodes, late]);
      const lateApplied = late.ledger.appliedIndex;
      await stopNode(late);

      for (let i = 0; i < 4; i++) await nodes[i % 2]!.ledger.rotate();
      await cluster.compact();
      // Truncation waits for the live nodes only: the stopped node's lease was revoked.
      // Published applied indexes trail the applies by up to one publish interval.
      const head = await log.head();
      await vi.waitFor(
        async () => {
          await nodes[1]!.ledger.truncate();
          expect(decodeSnapshot((await log.readSnapshot()).text ?? '{}').truncatedThrough).toBe(head);
        },
        { timeout: 5000, interval: 100 },
      );
      const through = decodeSnapshot((await log.readSnapshot()).text!).truncatedThrough;
      expect(through).toBe(head);
      expect((await log.read(1n, 10)).entries).toEqual([]);
      const snap = decodeSnapshot((await log.readSnapshot()).text!);
      expect(snap.index).toBe(head);
      // No per-node epoch and only wrapped keys travel in the snapshot.
      for (const k of snap.state.keys.values()) expect(k.localEpoch).toBe(0);
      expect(snap.truncatedThrough).toBeGreaterThan(lateApplied);

      late = await startNode(cluster.hosts, prefix, kek, 'sqlite', 0x5003n, late.dir);
      nodes.push(late);
      expect(late.ledger.appliedIndex).toBe(head);
      await late.ledger.rotate();
      await expectConverged(nodes);
      for (const n of nodes) expect(n.ledger.halt).toBeUndefined();
    } finally {
      client.close();
      await stopNodes(nodes);
    }
  });

  it('truncates only through the lowest live applied index', async () => {
    const prefix = `keyledger-test/${process.pid}/trunc-live`;
    const client = new Etcd3({ hosts: cluster.hosts });
    const log = new EtcdLog(client, prefix);
    const a = await startNode(cluster.hosts, prefix, kek, 'lmdb', 0x6001n);
    try {
      await a.ledger.rotate();
      // A live node that stays at index 1: publish it as a node would.
      const lease = client.lease(30);
      await log.publishApplied(lease, 0x6002n, 1n);
      await a.ledger.rotate();
      expect(await a.ledger.truncate()).toBe(1n);
      expect((await log.read(1n, 10)).entries.map((e) => e.seq)).toEqual([2n, 3n]);
      await lease.revoke();
    } finally {
      client.close();
      await stopNode(a);
    }
  });
});
