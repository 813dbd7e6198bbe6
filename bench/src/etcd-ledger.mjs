#!/usr/bin/env node
// pnpm --filter @keyledger/bench run bench:etcd [--entries N]
// keyledger through etcd, beside etcd itself in the same run, on a 3-member loopback cluster:
// - etcd's own put latency (one key, sequential puts) and its head-compared append transaction;
// - propose→applied-everywhere latency: an entry appended at the head until all three nodes
//   (SQLite, LMDB, LevelDB, each durable per entry) have applied it;
// - entries/s: back-to-back appends until every node has applied the last one.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FileKek, encodeRegistration } from '@keyledger/core';
import { EtcdLedger, EtcdLog } from '@keyledger/etcd';
import { EtcdCluster, etcdMissing } from '@keyledger/harness/etcd';
import { LevelRegistryStore } from '@keyledger/level';
import { LmdbRegistryStore } from '@keyledger/lmdb';
import { SqliteRegistryStore } from '@keyledger/sqlite';
import { Etcd3 } from 'etcd3';
import { median } from './stats.mjs';
import { freshDir } from './tmpdir.mjs';

const { values: args } = parseArgs({ options: { entries: { type: 'string', default: '300' } } });
const N = Number(args.entries);
const missing = etcdMissing();
if (missing) {
  process.stderr.write(`bench:etcd skipped: ${missing}\n`);
  process.exit(0);
}

function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
const ms = (t0) => performance.now() - t0;
const row = (name, xs) => ({ name, p50: median(xs).toFixed(2), p99: percentile(xs, 99).toFixed(2), n: xs.length });

const cluster = await EtcdCluster.start(3);
const client = new Etcd3({ hosts: cluster.hosts });
const nodes = [];
try {
  const kek = await FileKek.generate(join(freshDir('kek'), 'kek'));
  const putMs = [];
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    await client.put('bench/raw').value(Buffer.alloc(16, i & 0xff));
    putMs.push(ms(t0));
  }

  const prefix = 'bench/ledger';
  const stores = [
    await SqliteRegistryStore.open(join(freshDir('sqlite'), 'k.db')),
    await LmdbRegistryStore.open(freshDir('lmdb')),
    await LevelRegistryStore.open(freshDir('level')),
  ];
  for (const [i, store] of stores.entries()) {
    // A re-read every minute: the figures measure the watch path, not the periodic re-read.
    const options = { etcd: { hosts: cluster.hosts }, prefix, store, kek, nodeId: 0xb000n + BigInt(i), resyncIntervalMs: 60_000 };
    nodes.push({ store, ledger: await EtcdLedger.start(options) });
  }
  const log = new EtcdLog(client, prefix);
  let epoch = 0;
  const nextEntry = () => encodeRegistration({ dekId: 1, fullNodeId: 0xbeefn, localEpoch: ++epoch });

  const appendMs = [];
  const everywhereMs = [];
  for (let i = 0; i < N; i++) {
    const head = await log.head();
    const t0 = performance.now();
    if (!(await log.appendAt(head, nextEntry()))) throw new Error('lost the head race in a single-proposer bench');
    appendMs.push(ms(t0));
    await Promise.all(nodes.map((n) => n.ledger.waitForApplied(head + 1n)));
    everywhereMs.push(ms(t0));
  }

  let head = await log.head();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    if (!(await log.appendAt(head, nextEntry()))) throw new Error('lost the head race in a single-proposer bench');
    head++;
  }
  await Promise.all(nodes.map((n) => n.ledger.waitForApplied(head)));
  const seconds = ms(t0) / 1000;

  console.table([
    row('etcd put (raw)', putMs),
    row('etcd head-compared append txn', appendMs),
    row('propose → applied on all 3 nodes', everywhereMs),
  ]);
  console.log(
    `throughput: ${(N / seconds).toFixed(0)} entries/s appended and applied on all 3 nodes (${N} entries, ${seconds.toFixed(2)} s)`,
  );
  console.log(`ratio: propose→applied-everywhere p50 / etcd put p50 = ${(median(everywhereMs) / median(putMs)).toFixed(2)}×`);
} finally {
  for (const n of nodes) {
    await n.ledger.close();
    await n.store.close();
  }
  client.close();
  await cluster.stop();
}
