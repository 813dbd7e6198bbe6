import { execFileSync, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, FIXTURES, json, run, runDemo, tempDir } from './helpers.js';

/** Runs `keyledger ARGS | head -N` under bash with pipefail: the status is keyledger's if it fails. */
function throughHead(args: string, lines: number, cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', `"${process.execPath}" "${BIN}" ${args} | head -${lines}`], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('output as scripts and pipes see it (issue 12.2, 12.7)', () => {
  it('inspect | head -3 and demo | head -1 end quietly: no EPIPE trace, exit 0', async () => {
    const dir = await tempDir();
    const log = join(dir, 'big.jsonl');
    execFileSync(process.execPath, [join(FIXTURES, 'big-log.mjs'), log, '3000']);
    expect((await run(['replay', log, '--store', `sqlite:${join(dir, 'big.db')}`])).code).toBe(0);
    // 3,000 table rows (about 170 KB): more than a pipe buffer, so the writes go on after head has left.
    const inspect = throughHead(`inspect --store sqlite:${join(dir, 'big.db')}`, 3, dir);
    expect(inspect.stdout.split('\n')).toHaveLength(4);
    expect(inspect.stderr).toBe('');
    expect(inspect.status).toBe(0);
    const demo = throughHead('demo', 1, dir);
    expect(demo.stdout).toMatch(/^keyledger demo/);
    expect(demo.stderr).toBe('');
    expect(demo.status).toBe(0);
  });

  it('--json documents carry a version field; errors under --json are one JSON document on stderr', async () => {
    const demo = await runDemo(await tempDir());
    expect(json(await run(['inspect', '--json', '--store', `sqlite:${demo.db}`])).version).toBe(1);
    const replay = await run(['replay', demo.log, '--kek', demo.kek, '--store', `sqlite:${join(demo.dir, 'r.db')}`, '--json']);
    expect(replay.code).toBe(2);
    expect(json(replay)).toMatchObject({ version: 1, halt: { index: '35', code: 'ERR_LOCAL_EPOCH_ROLLBACK' } });
    const missing = await run(['inspect', '--json', '--store', `sqlite:${join(demo.dir, 'none.db')}`]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(JSON.parse(missing.stderr)).toMatchObject({
      version: 1,
      error: { code: 'ERR_STORE_NOT_FOUND', message: expect.stringMatching(/^no keyledger store at sqlite:/) },
      exit_code: 1,
    });
    const usage = await run(['replay', '--json']);
    expect(usage.code).toBe(1);
    expect(JSON.parse(usage.stderr)).toMatchObject({ version: 1, error: { code: 'usage', message: "missing required argument 'log'" } });
  });

  it('replay › validating a long log shows progress before anything is applied', async () => {
    const dir = await tempDir();
    const log = join(dir, 'long.jsonl');
    const count = 200_000;
    // Valid host entries, then one malformed last line: all of it is read while validating.
    await writeFile(log, `${Array.from({ length: count }, (_, i) => `{"index":"${i + 1}","entry":"01"}\n`).join('')}oops\n`);
    const r = await run(['replay', log, '--store', `sqlite:${join(dir, 'r.db')}`, '--progress-interval', '1']);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    const progress = lines.filter((l) => l.startsWith('validate: '));
    expect(progress.length, r.stderr).toBeGreaterThanOrEqual(2);
    for (const l of progress) expect(l).toMatch(/^validate: \d+\/\d+ bytes \(\d+%\), \d+ bytes\/s/);
    expect(lines.at(-1)).toContain(`${log}:${count + 1}: malformed log line: not valid JSON`);
  });
});
