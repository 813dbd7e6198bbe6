import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { json, run, runDemo, tempDir } from './helpers.js';

describe('keyledger keygen', () => {
  it('keygen › writes 32 random bytes with mode 0600 and never prints them', async () => {
    const path = join(await tempDir(), 'kek.bin');
    const r = await run(['keygen', path]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`wrote a new KEK to ${path} (32 random bytes, mode 0600)`);
    const st = await stat(path);
    expect(st.size).toBe(32);
    expect(st.mode & 0o777).toBe(0o600);
    const key = await readFile(path);
    expect(r.stdout).not.toContain(key.toString('hex'));
    expect(r.stdout).not.toContain(key.toString('base64'));
  });

  it('keygen › refuses to overwrite an existing file (exit 1) and leaves it unchanged', async () => {
    const path = join(await tempDir(), 'kek.bin');
    await run(['keygen', path]);
    const before = await readFile(path);
    const r = await run(['keygen', path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: ERR_INSECURE_KEK_FILE: KEK file .* already exists: refusing to overwrite a KEK/);
    expect(await readFile(path)).toEqual(before);
  });
});

describe('keyledger export-sidecar / import-sidecar', () => {
  it('export-sidecar › prints the keys.json sidecar of the store on stdout', async () => {
    const demo = await runDemo(await tempDir());
    const r = await run(['export-sidecar', '--store', `sqlite:${demo.db}`]);
    expect(r.code, r.stderr).toBe(0);
    const doc = json(r);
    expect(doc).toMatchObject({
      version: 2,
      raft_applied_index: 28,
      storage_envelope_active: true,
      storage_envelope_cutover_index: 27,
      raft_envelope_cutover_index: 28,
      active: { storage: 3, raft: 2 },
    });
    expect(Object.keys(doc.keys)).toEqual(['1', '2', '3']);
    // DEK 3 starts at the epoch its rotation registered for its proposer (n1 at 1).
    expect(doc.keys['3']).toMatchObject({ purpose: 'storage', created: '2025-01-01T00:21:00.000Z', local_epoch: 1 });
    expect(Buffer.from(doc.keys['3'].wrapped, 'base64')).toHaveLength(60);
  });

  it('export-sidecar › --out writes a 0600 file and refuses to overwrite it without --force', async () => {
    const demo = await runDemo(await tempDir());
    const out = join(demo.dir, 'keys.json');
    const r = await run(['export-sidecar', '--store', `sqlite:${demo.db}`, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^wrote .*keys\.json: applied index 28, 3 keys, active storage DEK 3 and raft DEK 2$/m);
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(out, 'utf8')).version).toBe(2);
    const again = await run(['export-sidecar', '--store', `sqlite:${demo.db}`, '--out', out]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists: pass --force to overwrite it');
    expect((await run(['export-sidecar', '--store', `sqlite:${demo.db}`, '--out', out, '--force'])).code).toBe(0);
  });

  it('export-sidecar › a store without state, or no store at all, exits 1', async () => {
    const dir = await tempDir();
    const log = join(dir, 'log.jsonl');
    await writeFile(log, `${JSON.stringify({ index: '1', entry: '0301000000010000000000000005000a' })}\n`);
    await run(['replay', log, '--store', `sqlite:${join(dir, 'r.db')}`]);
    const noState = await run(['export-sidecar', '--store', `sqlite:${join(dir, 'r.db')}`]);
    expect(noState.code).toBe(1);
    expect(noState.stderr).toContain('holds no encryption state (no bootstrap applied): nothing to export');
    const noStore = await run(['export-sidecar', '--store', `sqlite:${join(dir, 'none.db')}`]);
    expect(noStore.code).toBe(1);
    expect(noStore.stderr).toContain('error: no store at sqlite:');
  });

  it('import-sidecar › writes the state into a fresh store, checks it with --kek, warns that rows are missing, and is idempotent', async () => {
    const demo = await runDemo(await tempDir());
    const sidecar = join(demo.dir, 'keys.json');
    await run(['export-sidecar', '--store', `sqlite:${demo.db}`, '--out', sidecar]);
    const target = `level:${join(demo.dir, 'restored')}`;
    const r = await run(['import-sidecar', sidecar, '--store', target, '--kek', demo.kek]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('applied index 28, 3 keys, active storage DEK 3 and raft DEK 2 (every DEK unwraps with the KEK)');
    expect(r.stderr).toContain('warning: the store has no writer registry rows, and keys.json does not carry them.');
    expect(json(await run(['inspect', '--json', '--store', target])).state).toEqual(
      json(await run(['inspect', '--json', '--store', `sqlite:${demo.db}`])).state,
    );
    const again = await run(['import-sidecar', sidecar, '--store', target]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already holds this state; nothing written');
    // The restored store opens with the KEK (its keystore rebuilds) and resumes after index 28;
    // with no rows, the rollback at 35 and the collision at 36 register as new writers: the
    // danger the warning names.
    const replay = await run(['replay', demo.log, '--store', target, '--kek', demo.kek, '--json']);
    expect(json(replay)).toMatchObject({ already_applied_skipped: 10, applied: 4, halt: null });
  });

  it('import-sidecar › a different state is refused without --force (exit 1) and replaced with it', async () => {
    const one = await runDemo(await tempDir());
    const two = await runDemo(await tempDir());
    const sidecar = join(two.dir, 'keys.json');
    await run(['export-sidecar', '--store', `sqlite:${two.db}`, '--out', sidecar]);
    const refused = await run(['import-sidecar', sidecar, '--store', `sqlite:${one.db}`]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('already holds a different state (applied index 28, 3 keys');
    expect(refused.stderr).toContain('pass --force to replace it');
    const forced = await run(['import-sidecar', sidecar, '--store', `sqlite:${one.db}`, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect((await run(['export-sidecar', '--store', `sqlite:${one.db}`])).stdout).toBe(await readFile(sidecar, 'utf8'));
  });

  it('import-sidecar › a sidecar another KEK wrapped is refused with ERR_KEK_MISMATCH; a malformed one with ERR_STATE_MALFORMED', async () => {
    const one = await runDemo(await tempDir());
    const two = await runDemo(await tempDir());
    const sidecar = join(two.dir, 'keys.json');
    await run(['export-sidecar', '--store', `sqlite:${two.db}`, '--out', sidecar]);
    const mismatch = await run(['import-sidecar', sidecar, '--store', `sqlite:${join(one.dir, 'x.db')}`, '--kek', one.kek]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toMatch(/^error: ERR_KEK_MISMATCH: /);
    const bad = join(one.dir, 'bad.json');
    await writeFile(bad, '{"version": 2}');
    const malformed = await run(['import-sidecar', bad, '--store', `sqlite:${join(one.dir, 'y.db')}`]);
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toMatch(/^error: ERR_STATE_MALFORMED: encryption state: missing field/);
  });
});
