import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, json, run, runDemo, tempDir } from './helpers.js';

const reg = (dek: number, node: bigint, epoch: number): string => {
  const b = Buffer.alloc(16);
  b[0] = 0x03;
  b[1] = 0x01;
  b.writeUInt32BE(dek, 2);
  b.writeBigUInt64BE(node, 6);
  b.writeUInt16BE(epoch, 14);
  return b.toString('hex');
};
const line = (index: number | string, entry: string): string => JSON.stringify({ index: String(index), entry });

async function logFile(lines: string[]): Promise<string> {
  const path = join(await tempDir(), 'log.jsonl');
  await writeFile(path, lines.map((l) => `${l}\n`).join(''));
  return path;
}

describe('keyledger replay', () => {
  it('replay › a clean log applies, exits 0 and prints the summary; non-terminal progress is plain lines', async () => {
    const log = await logFile([line(1, reg(7, 0x11n, 1)), line(2, reg(7, 0x22n, 1)), line(5, reg(7, 0x11n, 2))]);
    const store = `sqlite:${join(await tempDir(), 'r.db')}`;
    const r = await run(['replay', log, '--store', store]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^applied 3 of 3 entries to sqlite:.*r\.db in [\d.]+s; no encryption state \(no bootstrap applied\)\n$/);
    expect(r.stderr).toMatch(/^replay: 3\/3 entries \(100%\), \d+ entries\/s in [\d.]+s\n$/);
    const doc = json(await run(['inspect', '--json', '--store', store]));
    expect(doc.deks).toEqual([
      {
        dek_id: 7,
        purpose: null,
        active: false,
        created: null,
        writers: [
          { slot: 0x11, node_id: '0x0000000000000011', first_epoch: 1, last_epoch: 2 },
          { slot: 0x22, node_id: '0x0000000000000022', first_epoch: 1, last_epoch: 1 },
        ],
      },
    ]);
  });

  it('replay › a long log on a pipe prints periodic progress lines with rate and ETA', async () => {
    const dir = await tempDir();
    const log = join(dir, 'big.jsonl');
    const gen = await import('node:child_process');
    gen.execFileSync(process.execPath, [join(FIXTURES, 'big-log.mjs'), log, '20000']);
    const r = await run(['replay', log, '--store', `sqlite:${join(dir, 'big.db')}`, '--group-size', '20', '--progress-interval', '50']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const l of lines.filter((x) => !x.startsWith('validate: ')).slice(0, -1))
      expect(l).toMatch(/^replay: \d+\/20000 entries \(\d+%\), \d+ entries\/s, ETA [\d.]+s$/);
    expect(lines.at(-1)).toMatch(/^replay: 20000\/20000 entries \(100%\)/);
    expect(r.stderr).not.toContain('\r');
  });

  it('replay › stops at the first halt with index, opcode, code and message, exit 2; entries before it stay applied', async () => {
    const log = await logFile([
      line(1, reg(7, 0x11n, 3)),
      line(2, reg(7, 0x22n, 1)),
      line(3, reg(7, 0x11n, 2)), // rollback: 3 → 2
      line(4, reg(7, 0x33n, 1)),
    ]);
    const store = `sqlite:${join(await tempDir(), 'r.db')}`;
    const r = await run(['replay', log, '--store', store]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('applied 2 of 4 entries');
    expect(r.stderr).toContain(`halted at raft index 3 (${log}:3), opcode 0x03 registration`);
    expect(r.stderr).toContain(
      'ERR_LOCAL_EPOCH_ROLLBACK: node 0x0000000000000011 registered epoch 2 for DEK 7, below its last seen epoch 3',
    );
    const doc = json(await run(['inspect', '--json', '--store', store]));
    expect(doc.deks[0].writers.map((w: { slot: number }) => w.slot)).toEqual([0x11, 0x22]);
  });

  it('replay › --json reports the halt as data', async () => {
    const log = await logFile([line(10, reg(1, 0x10001n, 1)), line(11, reg(1, 0x20001n, 1))]);
    const r = await run(['replay', log, '--store', `sqlite:${join(await tempDir(), 'r.db')}`, '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('');
    const doc = json(r);
    expect(doc).toMatchObject({ entries: 2, applied: 1, host_entries_skipped: 0, already_applied_skipped: 0, raft_applied_index: null });
    expect(doc.halt).toEqual({
      index: '11',
      line: 2,
      opcode: '0x03',
      code: 'ERR_NODE_ID_COLLISION',
      message: expect.stringContaining('slot 1 of DEK 1 is owned by node 0x0000000000010001'),
    });
  });

  it('replay › a bootstrap without --kek halts with ERR_KEK_NOT_CONFIGURED and a hint', async () => {
    const demo = await runDemo(await tempDir());
    const r = await run(['replay', demo.log, '--store', `sqlite:${join(demo.dir, 'nokek.db')}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/halted at raft index 1 .*opcode 0x04 bootstrap/);
    expect(r.stderr).toContain('ERR_KEK_NOT_CONFIGURED');
    expect(r.stderr).toContain('hint: pass --kek FILE');
  });

  it('replay › a second replay of the demo log resumes after the applied index and halts at the same entry', async () => {
    const demo = await runDemo(await tempDir());
    const store = `lmdb:${join(demo.dir, 'twice')}`;
    const first = await run(['replay', demo.log, '--kek', demo.kek, '--store', store, '--json']);
    const before = json(await run(['inspect', '--json', '--store', store]));
    const second = await run(['replay', demo.log, '--kek', demo.kek, '--store', store, '--json']);
    const after = json(await run(['inspect', '--json', '--store', store]));
    expect([first.code, second.code]).toEqual([2, 2]);
    expect(json(second).halt).toEqual(json(first).halt);
    // Every index up to 32 is at or below the applied index (registrations record theirs too): nothing re-applies.
    expect(json(second)).toMatchObject({ already_applied_skipped: 12, applied: 0 });
    expect(after).toEqual(before);
  });

  it('replay › an lmdb path with an extension is a one-file environment, as lmdb reads it; inspect finds it', async () => {
    const demo = await runDemo(await tempDir());
    const store = `lmdb:${join(demo.dir, 'replica.lmdb')}`;
    const replay = await run(['replay', demo.log, '--kek', demo.kek, '--store', store, '--json']);
    expect(replay.code).toBe(2);
    expect(json(replay).halt).toBeDefined();
    const inspect = await run(['inspect', '--json', '--store', store]);
    expect(inspect.code).toBe(0);
    expect(json(inspect).state).toBeDefined();
  });

  it.each([
    ['bad JSON', '{"index": "3", "entry": ', 'not valid JSON'],
    ['bad hex', line(3, 'zz'), '"entry" must be a non-empty string of hex byte pairs'],
    ['odd-length hex', line(3, '031'), '"entry" must be a non-empty string of hex byte pairs'],
    ['missing index', JSON.stringify({ entry: reg(1, 1n, 1) }), 'missing "index"'],
    ['numeric index', JSON.stringify({ index: 3, entry: reg(1, 1n, 1) }), '"index" is a JSON number'],
    ['non-monotonic index', line(2, reg(1, 3n, 1)), 'index 2 does not follow index 2 (indices must increase)'],
    ['missing entry', JSON.stringify({ index: '3' }), 'missing "entry"'],
  ])('replay › a malformed line (%s) is reported with its line number, exit 1, and nothing is applied', async (_name, bad, why) => {
    const log = await logFile([line(1, reg(1, 1n, 1)), line(2, reg(1, 2n, 1)), bad, line(9, reg(1, 9n, 1))]);
    const dir = await tempDir();
    const r = await run(['replay', log, '--store', `sqlite:${join(dir, 'r.db')}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: ${log}:3: malformed log line: ${why}`);
    expect(r.stdout).toBe('');
    // Validated before the store was even opened: nothing was applied, nothing was created.
    expect(existsSync(join(dir, 'r.db'))).toBe(false);
  });

  it('replay › blank lines are skipped and host entries (other opcodes) are counted, not applied', async () => {
    const log = await logFile([line(1, reg(1, 1n, 1)), '', line(2, '01deadbeef'), line(3, reg(1, 2n, 1))]);
    const r = await run(['replay', log, '--store', `sqlite:${join(await tempDir(), 'r.db')}`, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r)).toMatchObject({ entries: 3, applied: 2, host_entries_skipped: 1, halt: null });
  });

  it('replay › a missing log file, a bad store URI, a bad option value or a missing argument exit 1', async () => {
    const dir = await tempDir();
    const missing = await run(['replay', join(dir, 'nope.jsonl'), '--store', `sqlite:${join(dir, 'r.db')}`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/error: cannot read log .*nope\.jsonl \(ENOENT\)/);
    const log = await logFile([line(1, reg(1, 1n, 1))]);
    const badStore = await run(['replay', log, '--store', 'postgres://x']);
    expect(badStore.code).toBe(1);
    expect(badStore.stderr).toContain('is not a store URI: use sqlite:PATH (a file), lmdb:DIR or level:DIR');
    const badGroup = await run(['replay', log, '--group-size', '0']);
    expect(badGroup.code).toBe(1);
    expect(badGroup.stderr).toContain('--group-size must be a positive integer');
    const noArg = await run(['replay']);
    expect(noArg.code).toBe(1);
    expect(noArg.stderr).toContain("missing required argument 'log'");
  });

  it('replay › a KEK file readable by others is refused with ERR_INSECURE_KEK_FILE, exit 1', async () => {
    const dir = await tempDir();
    const kek = join(dir, 'kek.bin');
    await writeFile(kek, Buffer.alloc(32, 7), { mode: 0o644 });
    const log = await logFile([line(1, reg(1, 1n, 1))]);
    const r = await run(['replay', log, '--kek', kek, '--store', `sqlite:${join(dir, 'r.db')}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: ERR_INSECURE_KEK_FILE: KEK file .* has mode 644/);
    expect(r.stderr).not.toContain((await readFile(kek)).toString('hex'));
  });
});
