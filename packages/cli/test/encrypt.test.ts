import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileKek, encodeBootstrap } from '@keyledger/core';
import { BIN, run, runDemo, tempDir } from './helpers.js';

function pipe(args: string[], input: string | Buffer): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
    child.stdin.end(input);
  });
}

const NODE = '0x9f3c21d45e100a01';

async function cluster() {
  const dir = await tempDir();
  const kekPath = join(dir, 'kek.bin');
  const kek = await FileKek.generate(kekPath);
  const bootstrap = encodeBootstrap({
    storageDekId: 1,
    storageWrapped: await kek.wrap(crypto.getRandomValues(new Uint8Array(32))),
    raftDekId: 2,
    raftWrapped: await kek.wrap(crypto.getRandomValues(new Uint8Array(32))),
    registrations: [{ dekId: 1, fullNodeId: BigInt(NODE), localEpoch: 1 }],
  });
  const log = join(dir, 'log.jsonl');
  await writeFile(log, `${JSON.stringify({ index: '1', entry: Buffer.from(bootstrap).toString('hex') })}\n`);
  for (const db of ['a.db', 'b.db']) {
    const r = await run(['replay', log, '--kek', kekPath, '--store', `sqlite:${join(dir, db)}`]);
    expect(r.code, r.stderr).toBe(0);
  }
  return { dir, kekPath, log, a: `sqlite:${join(dir, 'a.db')}`, b: `sqlite:${join(dir, 'b.db')}` };
}

describe('keyledger encrypt / decrypt', () => {
  it('each run registers a fresh epoch through the log; another replica decrypts; a wrong context is ERR_INTEGRITY', async () => {
    const c = await cluster();
    const args = ['--store', c.a, '--kek', c.kekPath, '--log', c.log, '--node-id', NODE, '--context', 'user/7', '--hex'];
    const first = await pipe(['encrypt', ...args], 'secret value');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('DEK 1 epoch 2: nonce prefix 0a010002');
    const second = await pipe(['encrypt', ...args], 'secret value');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('epoch 3: nonce prefix 0a010003');
    expect(second.stdout.toString()).not.toBe(first.stdout.toString());
    // Both registrations are in the log, after the bootstrap.
    expect((await readFile(c.log, 'utf8')).trim().split('\n')).toHaveLength(3);
    // Replica b catches up on the log and opens the value; it needs no registry of its own.
    expect((await run(['replay', c.log, '--kek', c.kekPath, '--store', c.b])).code).toBe(0);
    const opened = await pipe(['decrypt', '--store', c.b, '--kek', c.kekPath, '--context', 'user/7', '--hex'], first.stdout);
    expect(opened.code, opened.stderr).toBe(0);
    expect(opened.stdout.toString()).toBe('secret value');
    const moved = await pipe(['decrypt', '--store', c.b, '--kek', c.kekPath, '--context', 'user/8', '--hex'], first.stdout);
    expect(moved.code).toBe(1);
    expect(moved.stderr).toContain('ERR_INTEGRITY');
    expect(moved.stdout.length).toBe(0);
  });

  it('refuses without --node-id, --log or --kek, before writing anything', async () => {
    const c = await cluster();
    const before = await readFile(c.log, 'utf8');
    for (const drop of ['--node-id', '--log', '--kek']) {
      const args = ['encrypt', '--store', c.a, '--kek', c.kekPath, '--log', c.log, '--node-id', NODE];
      const i = args.indexOf(drop);
      args.splice(i, 2);
      const r = await pipe(args, 'x');
      expect(r.code).toBe(1);
      expect(r.stdout.length).toBe(0);
    }
    expect(await readFile(c.log, 'utf8')).toBe(before);
  });
});

describe('keyledger demo › Encryptor', () => {
  it('each node encrypts, restarts and encrypts under a fresh epoch; a value opens on another replica', async () => {
    const demo = await runDemo(await tempDir());
    for (const [name, slot] of [
      ['n1', '0a01'],
      ['n2', '0b02'],
      ['n3', '0c03'],
    ]) {
      const line = demo.stdout.split('\n').find((l) => l.trimStart().startsWith(`${name} 0x`));
      expect(line, `${name}'s line`).toBeDefined();
      const m = new RegExp(`nonces ${slot}(\\w{4}) ‖ write_count 1\\.\\.3 +restart → ${slot}(\\w{4}) ‖ write_count 1\\.\\.2`).exec(line!);
      expect(m, line).not.toBeNull();
      expect(Number.parseInt(m![2]!, 16)).toBe(Number.parseInt(m![1]!, 16) + 1);
    }
    expect(demo.stdout).toContain(
      `n1's "value 0 of n1" opens on n2's replica; under another record's context it is refused with ERR_INTEGRITY`,
    );
  });
});
