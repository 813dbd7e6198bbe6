// pnpm --filter @keyledger/reliability soak:etcd -- --minutes 10
// A bounded soak on loopback: a 3-member etcd cluster and three `keyledger node` processes
// (SQLite, LMDB, LevelDB) that encrypt all the time, rotate now and then, and are SIGKILLed and
// restarted at random; an etcd member is killed and restarted and the log truncated along the way.
// At the end every node catches up and stops; the report counts repeated nonces (over every
// envelope a node printed) and stores whose replicated view differs from the first node's.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as core from '@keyledger/core';
import { decodeEnvelope } from '@keyledger/core';
import { EtcdCluster, etcdMissing, replicatedView } from '@keyledger/harness/etcd';
import { LevelRegistryStore } from '@keyledger/level';
import { LmdbRegistryStore } from '@keyledger/lmdb';
import { SqliteRegistryStore } from '@keyledger/sqlite';

const argv = process.argv.slice(2);
if (argv[0] === '--') argv.shift();
const { values } = parseArgs({ args: argv, options: { minutes: { type: 'string', default: '1' }, seed: { type: 'string' } } });
const minutes = Number(values.minutes);
if (!(minutes > 0 && minutes <= 120)) throw new RangeError('--minutes must be in (0, 120]');
const missing = etcdMissing();
if (missing) {
  console.error(`soak:etcd skipped: ${missing}`);
  process.exit(0);
}

const BIN = createRequire(import.meta.url)
  .resolve('@keyledger/cli/package.json')
  .replace(/package\.json$/, 'dist/bin.js');
const root = mkdtempSync(join(tmpdir(), 'keyledger-etcd-soak-'));
const kinds = [
  { uri: (d: string) => `sqlite:${join(d, 'k.db')}`, open: (d: string) => SqliteRegistryStore.open(join(d, 'k.db')) },
  { uri: (d: string) => `lmdb:${join(d, 'lmdb')}`, open: (d: string) => LmdbRegistryStore.open(join(d, 'lmdb')) },
  { uri: (d: string) => `level:${join(d, 'level')}`, open: (d: string) => LevelRegistryStore.open(join(d, 'level')) },
];

interface Node {
  id: string;
  dir: string;
  uri: string;
  child: ChildProcessWithoutNullStreams | undefined;
  out: string;
  halted: string | undefined;
}

const nonces = new Map<string, string>();
const stats = { envelopes: 0, repeats: 0, kills: 0, restarts: 0, rotations: 0, etcdKills: 0, truncations: 0, errors: 0 };
const log = (msg: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);

function start(node: Node, cluster: EtcdCluster): void {
  const args = [BIN, 'node', '--etcd', cluster.hosts.join(','), '--prefix', 'soak', '--kek', join(root, 'kek.bin')];
  const child = spawn(process.execPath, [...args, '--node-id', node.id, '--store', node.uri], { env: { ...process.env, NO_COLOR: '1' } });
  node.child = child;
  // A node that just died (killed, halted, failed to start) closes its stdin under a pending write.
  child.stdin.on('error', () => undefined);
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    node.out += d;
    const lines = node.out.split('\n');
    node.out = lines.pop()!;
    for (const line of lines) record(node, line);
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    if (/halted:/.test(d)) node.halted = d.trim();
    else if (/ERR_/.test(d) && !/ERR_ETCD_UNAVAILABLE|ERR_LEDGER_CLOSED/.test(d)) {
      stats.errors++;
      log(`${node.id}: ${d.trim()}`);
    }
  });
  child.on('close', (code) => {
    if (node.child === child) node.child = undefined;
    if (code === 2) log(`${node.id} halted: ${node.halted ?? ''}`);
  });
}

function record(node: Node, line: string): void {
  if (!/^[A-Za-z0-9+/]{40,}={0,2}$/.test(line)) return;
  const env = decodeEnvelope(new Uint8Array(Buffer.from(line, 'base64')));
  const key = `${env.keyId}:${Buffer.from(env.nonce).toString('hex')}`;
  stats.envelopes++;
  if (nonces.has(key)) {
    stats.repeats++;
    log(`REPEATED NONCE ${key} (${nonces.get(key)} and ${node.id})`);
  }
  nonces.set(key, node.id);
}

function kill(node: Node): Promise<void> {
  const child = node.child;
  if (!child) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('close', () => resolve());
    child.kill('SIGKILL');
  });
}

function stopGracefully(node: Node): Promise<void> {
  const child = node.child;
  if (!child) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('close', () => resolve());
    child.stdin.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)]!;

const cluster = await EtcdCluster.start(3);
try {
  const keygen = spawn(process.execPath, [BIN, 'keygen', join(root, 'kek.bin')]);
  await new Promise((r) => keygen.once('close', r));
  const nodes: Node[] = kinds.map((k, i) => {
    const dir = join(root, `node${i}`);
    return { id: `0x${(0x5000 + i).toString(16)}`, dir, uri: k.uri(dir), child: undefined, out: '', halted: undefined };
  });
  for (const n of nodes) start(n, cluster);
  const deadline = Date.now() + minutes * 60_000;
  let tick = 0;
  while (Date.now() < deadline) {
    tick++;
    for (const n of nodes) if (n.child && !n.halted) n.child.stdin.write(`encrypt soak ${tick}\n`);
    const r = Math.random();
    const live = nodes.filter((n) => n.child && !n.halted);
    if (r < 0.04 && live.length > 0) {
      const n = pick(live);
      await kill(n);
      stats.kills++;
      await sleep(Math.random() * 500);
      start(n, cluster);
      stats.restarts++;
    } else if (r < 0.06 && live.length > 0) {
      pick(live).child!.stdin.write('rotate\n');
      stats.rotations++;
    } else if (r < 0.065 && live.length > 0) {
      pick(live).child!.stdin.write('truncate\n');
      stats.truncations++;
    } else if (r < 0.067) {
      const m = Math.floor(Math.random() * 3);
      cluster.kill(m);
      stats.etcdKills++;
      await sleep(1000);
      await cluster.restart(m);
    }
    for (const n of nodes) if (!n.child && !n.halted) start(n, cluster);
    await sleep(100);
  }
  log('soak over: every node catches up and stops');
  await sleep(3000);
  await Promise.all(nodes.map((n) => stopGracefully(n)));
  const views: string[] = [];
  for (const [i, n] of nodes.entries()) {
    const store = await kinds[i]!.open(n.dir);
    views.push(JSON.stringify(await replicatedView(store, core), (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
    await store.close();
  }
  const diverged = views.filter((v) => v !== views[0]).length;
  const halted = nodes.filter((n) => n.halted).map((n) => `${n.id}: ${n.halted}`);
  console.log(JSON.stringify({ minutes, ...stats, distinctNonces: nonces.size, diverged, halted }, null, 2));
  process.exitCode = stats.repeats > 0 || diverged > 0 || halted.length > 0 ? 1 : 0;
} finally {
  await cluster.stop();
  rmSync(root, { recursive: true, force: true });
}
