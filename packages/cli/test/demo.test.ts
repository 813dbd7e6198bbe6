import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ANSI, json, run, runDemo, tempDir } from './helpers.js';

/** The writer tables of an `inspect --json` document, without `created` (the replaying host's clock). */
function writerTables(doc: { deks: { dek_id: number; purpose: string; active: boolean; writers: unknown[] }[] }) {
  return doc.deks.map((d) => ({ dek_id: d.dek_id, purpose: d.purpose, active: d.active, writers: d.writers }));
}

describe('keyledger demo', () => {
  it('demo › with no flags narrates every step, explains both halts and ends with the tables, well under a minute', async () => {
    const cwd = await tempDir();
    const r = await runDemo(cwd);
    expect(r.ms).toBeLessThan(20_000);
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toMatch(ANSI);
    const steps = r.stdout.split('\n').filter((l) => /^\s*\d+ [✓✗] /.test(l));
    expect(steps).toHaveLength(12);
    expect(steps.filter((l) => l.includes(' ✓ '))).toHaveLength(10);
    expect(r.stdout).toMatch(/bootstrap: .* → bootstrapped, 6 writers/);
    expect(r.stdout).toMatch(/n2 restarts .* → advanced ×2/);
    expect(r.stdout).toMatch(/Raft re-delivers .* → already-applied ×4 .*store unchanged/);
    expect(r.stdout).toMatch(/storage DEK rotated: .* → rotated/);
    expect(r.stdout).toMatch(/storage envelope cutover on DEK 3 → enabled/);
    expect(r.stdout).toMatch(/raft envelope cutover on DEK 2 → enabled; raft key DEK 2 in effect from index 28/);
    expect(r.stdout).toMatch(
      /\[35\].* halted: ERR_LOCAL_EPOCH_ROLLBACK \(node 0xd20e6f451a7c0c03 registered epoch 1 for DEK 3, below its last seen epoch 2\); state intact/,
    );
    expect(r.stdout).toMatch(/\[36\].* halted: ERR_NODE_ID_COLLISION \(.*owned by node 0x41b788e2c3d90b02.*\); state intact/);
    // The state summary and one writer table per DEK.
    expect(r.stdout).toMatch(/active\s+storage DEK 3 · raft DEK 2/);
    expect(r.stdout).toMatch(/envelopes\s+storage on since raft index 27 · raft on since raft index 28/);
    for (const dek of [1, 2, 3]) expect(r.stdout).toContain(`DEK ${dek} · `);
    expect(r.stdout).toMatch(/│ 0x0b02 │ 0x41b788e2c3d90b02 │\s+2 │\s+2 │/);
    // The directory it named holds the KEK (0600), the SQLite store and the log.
    expect(r.dir.startsWith(cwd)).toBe(true);
    expect((await stat(r.kek)).mode & 0o777).toBe(0o600);
    expect((await stat(r.kek)).size).toBe(32);
    expect((await stat(r.db)).isFile()).toBe(true);
    const log = (await readFile(r.log, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { index: string; entry: string });
    expect(log.map((l) => l.index)).toEqual(['1', '9', '10', '14', '15', '21', '22', '23', '27', '28', '31', '32', '35', '36']);
    // No key bytes: neither the KEK nor any wrapped DEK appears in the output.
    const kekHex = (await readFile(r.kek)).toString('hex');
    expect(r.stdout).not.toContain(kekHex);
    expect(r.stdout).not.toContain(log[0]!.entry.slice(20, 60));
  });

  it('demo › its log replayed into LMDB and LevelDB gives writer tables identical to the SQLite demo store', async () => {
    const cwd = await tempDir();
    const demo = await runDemo(cwd);
    const stores = [`sqlite:${demo.db}`, `lmdb:${join(demo.dir, 'replica-lmdb')}`, `level:${join(demo.dir, 'replica-level')}`];
    for (const store of stores.slice(1)) {
      const r = await run(['replay', demo.log, '--kek', demo.kek, '--store', store]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toContain('applied 12 of 14 entries');
      expect(r.stderr).toMatch(/halted at raft index 35 .*demo-log\.jsonl:13\), opcode 0x03 registration/);
      expect(r.stderr).toContain(
        'ERR_LOCAL_EPOCH_ROLLBACK: node 0xd20e6f451a7c0c03 registered epoch 1 for DEK 3, below its last seen epoch 2',
      );
    }
    const docs = [];
    for (const store of stores) {
      const r = await run(['inspect', '--store', store, '--json']);
      expect(r.code, r.stderr).toBe(0);
      docs.push(json(r));
    }
    const [sqlite, lmdb, level] = docs;
    expect(writerTables(lmdb)).toEqual(writerTables(sqlite));
    expect(writerTables(level)).toEqual(writerTables(sqlite));
    expect(lmdb.state).toEqual(sqlite.state);
    expect(level.state).toEqual(sqlite.state);
    expect(writerTables(sqlite).map((d: { writers: unknown[] }) => d.writers.length)).toEqual([3, 3, 3]);
  });

  it.each(['lmdb', 'level'])('demo › --store %s:DIR works the same as the default SQLite store', async (scheme) => {
    const cwd = await tempDir();
    const base = await runDemo(cwd);
    const other = await runDemo(cwd, ['--store', `${scheme}:${join(cwd, `demo-${scheme}`)}`]);
    expect(other.stdout).toContain(`store     ${scheme}:./demo-${scheme}`);
    expect(other.stdout).toContain('halted: ERR_NODE_ID_COLLISION');
    const a = json(await run(['inspect', '--json', '--store', `sqlite:${base.db}`]));
    const b = json(await run(['inspect', '--json', '--store', `${scheme}:${join(cwd, `demo-${scheme}`)}`]));
    // The fixed clock makes even `created` equal across backends.
    expect(b.deks).toEqual(a.deks);
    expect(b.state).toEqual(a.state);
  });

  it('demo › refuses a store that already holds state (exit 1) and a directory that already has a KEK', async () => {
    const cwd = await tempDir();
    const first = await runDemo(cwd);
    const used = await run(['demo', '--store', `sqlite:${first.db}`], { cwd });
    expect(used.code).toBe(1);
    expect(used.stderr).toMatch(/error: .*already holds keyledger state: the demo needs a fresh store/);
    const again = await run(['demo', '--dir', first.dir, '--store', `sqlite:${join(cwd, 'fresh.db')}`], { cwd });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/error: ERR_INSECURE_KEK_FILE: KEK file .*kek\.bin already exists/);
  });
});
