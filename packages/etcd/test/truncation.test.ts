import { join } from 'node:path';
import { FileKek } from '@keyledger/core';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EtcdLog } from '../src/index.js';
import { decodeSnapshot } from '../src/snapshot.js';
import { EtcdCluster, etcdMissing } from '@keyledger/harness/etcd';
import { NonceLedger, expectConverged, startNode, stopNode, stopNodes, tempDir, type TestNode } from './support/nodes.js';

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
    const nonces = new NonceLedger();
    try {
      nodes.push(await startNode(cluster.hosts, prefix, kek, 'lmdb', 0x5001n));
      nodes.push(await startNode(cluster.hosts, prefix, kek, 'level', 0x5002n));
      let late = await startNode(cluster.hosts, prefix, kek, 'sqlite', 0x5003n);
      await nonces.encryptOn(late, 3, nodes[0]);
      await nodes[0]!.ledger.rotate();
      await expectConverged([...nodes, late]);
      const lateApplied = late.ledger.appliedIndex;
      await stopNode(late);

      for (let i = 0; i < 4; i++) await nodes[i % 2]!.ledger.rotate();
      await expectConverged(nodes);
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
      // Restored to the snapshot at `head`, then its own registration was appended right after it.
      expect(late.ledger.appliedIndex).toBe(head + 1n);
      await nonces.encryptOn(late, 3, nodes[0]);
      await late.ledger.rotate();
      for (const n of nodes) await nonces.encryptOn(n, 2, late);
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
      // A live node that stays at index 2: publish it as a node would.
      const lease = client.lease(30);
      await log.publishApplied(lease, 0x6002n, 2n);
      await a.ledger.rotate();
      await expectConverged([a]);
      const head = await log.head();
      expect(await a.ledger.truncate()).toBe(2n);
      const left = (await log.read(1n, 100)).entries.map((e) => e.seq);
      expect(left[0]).toBe(3n);
      expect(left.at(-1)).toBe(head);
      await lease.revoke();
    } finally {
      client.close();
      await stopNode(a);
    }
  });
});
