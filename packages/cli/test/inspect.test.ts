import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ANSI, json, run, runDemo, tempDir } from './helpers.js';

describe('keyledger inspect', () => {
  it('inspect › prints the state summary and an aligned writer table per DEK, never key bytes', async () => {
    const demo = await runDemo(await tempDir());
    const r = await run(['inspect', '--store', `sqlite:${demo.db}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(ANSI);
    expect(r.stdout).toMatch(/^store\s+sqlite:.*registry\.db$/m);
    expect(r.stdout).toMatch(/^applied\s+raft index 28$/m);
    expect(r.stdout).toMatch(/^active\s+storage DEK 3 · raft DEK 2$/m);
    expect(r.stdout).toMatch(/^keys\s+1 storage · 2 raft \(active\) · 3 storage \(active\)$/m);
    expect(r.stdout).toContain('DEK 1 · storage · retired · created 2025-01-01T00:01:00.000Z');
    expect(r.stdout).toContain('DEK 3 · storage · active · created 2025-01-01T00:21:00.000Z');
    const tableLines = r.stdout.split('\n').filter((l) => l.startsWith('│'));
    expect(tableLines).toHaveLength(12); // 3 headers + 9 writers
    expect(new Set(tableLines.map((l) => l.length)).size).toBe(1); // aligned
    expect(tableLines).toContain('│ 0x0a01 │ 0x9f3c21d45e100a01 │           1 │          2 │');
    // Wrapped DEKs stay out: not the base64 of the sidecar, not the hex of the log.
    const sidecar = JSON.parse((await run(['export-sidecar', '--store', `sqlite:${demo.db}`])).stdout);
    for (const k of Object.values(sidecar.keys) as { wrapped: string }[]) expect(r.stdout).not.toContain(k.wrapped.slice(0, 16));
    expect(r.stdout).not.toContain((await readFile(demo.kek)).toString('hex').slice(0, 16));
  });

  it('inspect › --json gives state and per-DEK writers with decimal-string indices and hex node ids', async () => {
    const demo = await runDemo(await tempDir());
    const r = await run(['inspect', '--json', '--store', `sqlite:${demo.db}`]);
    expect(r.code).toBe(0);
    const doc = json(r);
    expect(doc.store).toBe(`sqlite:${demo.db}`);
    expect(doc.state).toEqual({
      raft_applied_index: '28',
      active: { storage: 3, raft: 2 },
      storage_envelope_active: true,
      storage_envelope_cutover_index: '27',
      raft_envelope_cutover_index: '28',
    });
    expect(doc.deks.map((d: { dek_id: number; purpose: string; active: boolean }) => [d.dek_id, d.purpose, d.active])).toEqual([
      [1, 'storage', false],
      [2, 'raft', true],
      [3, 'storage', true],
    ]);
    expect(doc.deks[2].writers).toEqual([
      { slot: 0x0a01, node_id: '0x9f3c21d45e100a01', first_epoch: 1, last_epoch: 2 },
      { slot: 0x0b02, node_id: '0x41b788e2c3d90b02', first_epoch: 2, last_epoch: 2 },
      { slot: 0x0c03, node_id: '0xd20e6f451a7c0c03', first_epoch: 2, last_epoch: 2 },
    ]);
    expect(doc.problems).toEqual([]);
    expect(JSON.stringify(doc)).not.toContain('wrapped');
  });

  it('inspect › a store without state says it is not bootstrapped', async () => {
    const dir = await tempDir();
    const log = join(dir, 'log.jsonl');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(log, `${JSON.stringify({ index: '1', entry: '0301000000010000000000000005000a' })}\n`);
    expect((await run(['replay', log, '--store', `level:${join(dir, 'lv')}`])).code).toBe(0);
    const r = await run(['inspect', '--store', `level:${join(dir, 'lv')}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^state\s+not bootstrapped \(no encryption state yet\)$/m);
    expect(r.stdout).toContain('DEK 1 · not in the state');
    expect(r.stdout).toContain('│ 0x0005 │ 0x0000000000000005 │          10 │         10 │');
    expect(json(await run(['inspect', '--json', '--store', `level:${join(dir, 'lv')}`])).state).toBeNull();
  });

  it('inspect › a store that does not exist is an error (exit 1) and is not created', async () => {
    const dir = await tempDir();
    const r = await run(['inspect', '--store', `lmdb:${join(dir, 'nothing')}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: ERR_STORE_NOT_FOUND: no keyledger store at lmdb:.*nothing there.*: check --store/);
    const { existsSync } = await import('node:fs');
    expect(existsSync(join(dir, 'nothing'))).toBe(false);
  });
});
