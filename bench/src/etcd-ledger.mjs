// keyledger through etcd (issue 15), beside etcd itself in the same run, on a 3-member loopback
// cluster:
// - etcd's own put latency (one key, sequential puts) and its head-compared append transaction;
// - propose→applied-everywhere latency: an entry appended at the head until all three nodes
//   (SQLite, LMDB, LevelDB, each durable per entry) have applied it;
// - entries/s: back-to-back appends until every node has applied the last one.
// Run by main.mjs (skipped, with the reason, when `etcd` is not on PATH);
// `pnpm --filter @keyledger/bench run bench:etcd [--quick] [--entries N]` runs it alone.
import { randomBytes } from 'node:crypto';
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

function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
const since = (t0) => performance.now() - t0;
/** A latency figure as the JSON records it: p50 (the median), p99 and every sample, in ms. */
const latency = (xs) => ({ p50: median(xs), p99: percentile(xs, 99), unit: 'ms', samples: xs });

/** Every DEK the ledger's bootstrap made, unwrapped, for the run's key-hygiene check. */
async function recordDeks(ledger, kek, keyMaterial) {
  for (const key of ledger.state.keys.values()) keyMaterial.push(await kek.unwrap(key.wrapped));
}

/**
 * The etcd figures with `cfg.etcdEntries` entries per figure, or `{ skipped: reason }` when the
 * `etcd` binary is missing. The KEK and the bootstrap's DEKs go into `keyMaterial`.
 */
export async function benchEtcd(cfg, log, keyMaterial) {
  const missing = etcdMissing();
  if (missing) {
    log(`etcd: skipped: ${missing}`);
    return { skipped: missing };
  }
  const N = cfg.etcdEntries;
  log(`etcd: 3-member loopback cluster, 3 EtcdLedger nodes (sqlite, lmdb, level), ${N} entries per figure`);
  const cluster = await EtcdCluster.start(3);
  const client = new Etcd3({ hosts: cluster.hosts });
  const nodes = [];
  try {
    const kekBytes = randomBytes(32);
    keyMaterial.push(kekBytes);
    const kek = FileKek.fromBytes(kekBytes, 'bench-etcd');
    const putMs = [];
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      await client.put('bench/raw').value(Buffer.alloc(16, i & 0xff));
      putMs.push(since(t0));
    }

    const prefix = 'bench/ledger';
    const stores = [
      await SqliteRegistryStore.open(join(freshDir('etcd-sqlite'), 'k.db')),
      await LmdbRegistryStore.open(freshDir('etcd-lmdb')),
      await LevelRegistryStore.open(freshDir('etcd-level')),
    ];
    for (const [i, store] of stores.entries()) {
      // A re-read every minute: the figures measure the watch path, not the periodic re-read.
      const options = { etcd: { hosts: cluster.hosts }, prefix, store, kek, nodeId: 0xb000n + BigInt(i), resyncIntervalMs: 60_000 };
      try {
        nodes.push({ store, ledger: await EtcdLedger.start(options) });
      } catch (err) {
        for (const s of stores.slice(i)) await s.close();
        throw err;
      }
    }
    await recordDeks(nodes[0].ledger, kek, keyMaterial);
    const etcdLog = new EtcdLog(client, prefix);
    let epoch = 0;
    const nextEntry = () => encodeRegistration({ dekId: 1, fullNodeId: 0xbeefn, localEpoch: ++epoch });

    const appendMs = [];
    const everywhereMs = [];
    for (let i = 0; i < N; i++) {
      const head = await etcdLog.head();
      const t0 = performance.now();
      if (!(await etcdLog.appendAt(head, nextEntry()))) throw new Error('lost the head race in a single-proposer bench');
      appendMs.push(since(t0));
      await Promise.all(nodes.map((n) => n.ledger.waitForApplied(head + 1n)));
      everywhereMs.push(since(t0));
    }

    let head = await etcdLog.head();
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      if (!(await etcdLog.appendAt(head, nextEntry()))) throw new Error('lost the head race in a single-proposer bench');
      head++;
    }
    await Promise.all(nodes.map((n) => n.ledger.waitForApplied(head)));
    const seconds = since(t0) / 1000;
    for (const n of nodes) {
      if (n.ledger.halt) throw new Error(`etcd: a node halted: ${n.ledger.halt.code}`);
    }

    const out = {
      entries: N,
      put: latency(putMs),
      appendTxn: latency(appendMs),
      appliedEverywhere: latency(everywhereMs),
      entriesPerSec: N / seconds,
    };
    out.appliedEverywhereOverPut = out.appliedEverywhere.p50 / out.put.p50;
    log(
      `etcd: put p50 ${out.put.p50.toFixed(2)} ms; propose→applied everywhere p50 ${out.appliedEverywhere.p50.toFixed(2)} ms ` +
        `(${out.appliedEverywhereOverPut.toFixed(1)}× put); ${out.entriesPerSec.toFixed(0)} entries/s`,
    );
    return out;
  } finally {
    for (const n of nodes) {
      await n.ledger.close();
      await n.store.close();
    }
    client.close();
    await cluster.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2).filter((a) => a !== '--');
  const { values } = parseArgs({ args: argv, options: { quick: { type: 'boolean', default: false }, entries: { type: 'string' } } });
  const { FULL, QUICK } = await import('./config.mjs');
  const { etcdTable } = await import('./report.mjs');
  const { leaks } = await import('@keyledger/reliability/key-hygiene');
  const { removeTempRoot } = await import('./tmpdir.mjs');
  const cfg = { ...(values.quick ? QUICK : FULL) };
  if (values.entries !== undefined) cfg.etcdEntries = Number(values.entries);
  const keyMaterial = [];
  const logged = [];
  let etcd;
  try {
    const log = (m) => {
      logged.push(m);
      process.stderr.write(`${m}\n`);
    };
    etcd = await benchEtcd(cfg, log, keyMaterial);
  } finally {
    removeTempRoot();
  }
  const text = etcdTable({ etcd });
  const leak = leaks([...logged, text].join('\n'), keyMaterial);
  if (leak) throw new Error(`key material (${leak}) in the etcd figures: nothing printed`);
  console.log(text);
}
