import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';

/** Why the etcd tests cannot run here, or undefined when `etcd` is on the PATH. */
export function etcdMissing(): string | undefined {
  try {
    execFileSync('etcd', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'etcd is not installed (Debian: apt-get install etcd-server); the real-cluster tests are skipped';
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

interface Member {
  name: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  proc: ChildProcess | undefined;
}

const live = new Set<EtcdCluster>();
// The cluster must not outlive a failing test run: kill every member's process group on exit.
process.once('exit', () => {
  for (const c of live) c.killAll();
});

/** A real etcd cluster on loopback, each member in its own process group and temp data dir. */
export class EtcdCluster {
  readonly members: Member[];
  readonly #root: string;
  readonly #initial: string;

  private constructor(members: Member[], root: string) {
    this.members = members;
    this.#root = root;
    this.#initial = members.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`).join(',');
  }

  static async start(size = 3): Promise<EtcdCluster> {
    const root = mkdtempSync(join(tmpdir(), 'keyledger-etcd-'));
    const members: Member[] = [];
    for (let i = 0; i < size; i++) {
      members.push({
        name: `m${i}`,
        clientPort: await freePort(),
        peerPort: await freePort(),
        dataDir: join(root, `m${i}`),
        proc: undefined,
      });
    }
    const cluster = new EtcdCluster(members, root);
    live.add(cluster);
    for (let i = 0; i < size; i++) cluster.#spawn(i);
    await cluster.waitHealthy();
    return cluster;
  }

  get hosts(): string[] {
    return this.members.map((m) => `127.0.0.1:${m.clientPort}`);
  }

  #spawn(i: number): void {
    const m = this.members[i]!;
    const url = (port: number) => `http://127.0.0.1:${port}`;
    m.proc = spawn(
      'etcd',
      [
        `--name=${m.name}`,
        `--data-dir=${m.dataDir}`,
        `--listen-client-urls=${url(m.clientPort)}`,
        `--advertise-client-urls=${url(m.clientPort)}`,
        `--listen-peer-urls=${url(m.peerPort)}`,
        `--initial-advertise-peer-urls=${url(m.peerPort)}`,
        `--initial-cluster=${this.#initial}`,
        '--initial-cluster-state=new',
        `--initial-cluster-token=${this.#root}`,
        '--heartbeat-interval=50',
        '--election-timeout=500',
        '--log-level=error',
      ],
      { detached: true, stdio: 'ignore' },
    );
  }

  /** Waits until a write through every running member succeeds. */
  async waitHealthy(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const m of this.members) {
      if (!m.proc) continue;
      const c = new Etcd3({ hosts: `127.0.0.1:${m.clientPort}`, dialTimeout: 1000 });
      try {
        for (;;) {
          try {
            await c.put('keyledger-test/health').value(m.name).exec();
            break;
          } catch (err) {
            if (Date.now() > deadline) throw err;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      } finally {
        c.close();
      }
    }
  }

  /** SIGKILLs member `i` (its whole process group). */
  kill(i: number): void {
    const p = this.members[i]!.proc;
    if (p?.pid) killGroup(p.pid);
    this.members[i]!.proc = undefined;
  }

  /** Restarts member `i` on its data dir and waits until the cluster is healthy again. */
  async restart(i: number): Promise<void> {
    this.#spawn(i);
    await this.waitHealthy();
  }

  /** The index of the member that leads now. */
  async leader(): Promise<number> {
    for (const [i, m] of this.members.entries()) {
      if (!m.proc) continue;
      const one = new Etcd3({ hosts: `127.0.0.1:${m.clientPort}` });
      try {
        const s = await one.maintenance.status();
        if (s.leader === s.header.member_id) return i;
      } finally {
        one.close();
      }
    }
    throw new Error('no leader');
  }

  /** Moves leadership to another member (a real etcd leader change). */
  async moveLeader(): Promise<number> {
    const from = await this.leader();
    const to = (from + 1) % this.members.length;
    const leaderClient = new Etcd3({ hosts: `127.0.0.1:${this.members[from]!.clientPort}` });
    const target = new Etcd3({ hosts: `127.0.0.1:${this.members[to]!.clientPort}` });
    try {
      const targetId = (await target.maintenance.status()).header.member_id;
      await leaderClient.maintenance.moveLeader({ targetID: targetId });
    } finally {
      leaderClient.close();
      target.close();
    }
    return to;
  }

  /** Compacts etcd's history up to the current revision (what an auto-compaction would do). */
  async compact(): Promise<void> {
    const c = new Etcd3({ hosts: this.hosts });
    try {
      const rev = (await c.get('keyledger-test/health').exec()).header.revision;
      await c.kv.compact({ revision: rev, physical: true });
    } finally {
      c.close();
    }
  }

  killAll(): void {
    for (let i = 0; i < this.members.length; i++) this.kill(i);
  }

  async stop(): Promise<void> {
    this.killAll();
    live.delete(this);
    rmSync(this.#root, { recursive: true, force: true });
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
