import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdCluster, etcdMissing } from '@keyledger/harness/etcd';
import { BIN, run, tempDir } from './helpers.js';

const missing = etcdMissing();
if (missing) console.warn(`SKIP keyledger node tests: ${missing}`);

let cluster: EtcdCluster;
let dir: string;

/** A `keyledger node` process with its stdin open for commands. */
class NodeProcess {
  readonly child: ChildProcessWithoutNullStreams;
  out = '';
  err = '';

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [BIN, 'node', ...args], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => (this.out += d));
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => (this.err += d));
  }

  async waitFor(pattern: RegExp, timeoutMs = 12_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = pattern.exec(this.out);
      if (m) return m;
      if (Date.now() > deadline || this.child.exitCode !== null) throw new Error(`no ${pattern} in: ${this.out}\n${this.err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Ends stdin and resolves with the exit code. */
  end(): Promise<number | null> {
    return new Promise((resolve) => {
      this.child.once('close', (code) => resolve(code));
      this.child.stdin.end();
    });
  }
}

describe.skipIf(missing !== undefined)('keyledger node against a real etcd cluster', () => {
  beforeAll(async () => {
    cluster = await EtcdCluster.start(1);
    dir = await tempDir();
    expect((await run(['keygen', join(dir, 'kek.bin')])).code).toBe(0);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('two nodes: one encrypts, the other decrypts, a rotation re-registers both; a colliding id exits 1', async () => {
    const common = ['--etcd', cluster.hosts.join(','), '--kek', 'kek.bin', '--prefix', 'cli-test'];
    const a = new NodeProcess([...common, '--node-id', '0xa1', '--store', 'sqlite:a.db']);
    await a.waitFor(/DEK 1 epoch 1 \(registered\)/);
    const b = new NodeProcess([...common, '--node-id', '0xb2', '--store', 'lmdb:b']);
    await b.waitFor(/\(registered\)/);
    a.child.stdin.write('encrypt hello from a\n');
    const [sealed] = await a.waitFor(/^[A-Za-z0-9+/=]{40,}$/m);
    b.child.stdin.write(`decrypt ${sealed}\n`);
    await b.waitFor(/^hello from a$/m);
    b.child.stdin.write('rotate\n');
    await b.waitFor(/rotation applied at (\d+)/);
    await a.waitFor(/DEK 3 epoch 1 \(registered\)/);

    const c = await run(['node', ...common, '--node-id', '0x100a1', '--store', 'sqlite:c.db'], { cwd: dir });
    expect(c.code).toBe(1);
    expect(c.stderr).toContain('ERR_NODE_ID_COLLISION');

    expect(await a.end()).toBe(0);
    expect(await b.end()).toBe(0);
  });
});
