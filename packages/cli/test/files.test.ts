import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, lstat, readFile, readdir, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CAN_MOUNT, fill, tinyDisk } from './fixtures/disk.js';
import { FIXTURES, json, run, runDemo, tempDir } from './helpers.js';

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

describe('files the CLI writes (issue 11.5, 11.11)', () => {
  it('demo › the KEK, the log, the store and its directory are owner-only (0600 files, 0700 directory)', async () => {
    const demo = await runDemo(await tempDir());
    expect(await mode(demo.dir)).toBe(0o700);
    expect(await mode(demo.kek)).toBe(0o600);
    expect(await mode(demo.log)).toBe(0o600);
    expect(await mode(demo.db)).toBe(0o600);
  });

  it('export-sidecar › --force replaces a 0644 file with a 0600 one; a symlink is refused, its target untouched', async () => {
    const demo = await runDemo(await tempDir());
    const out = join(demo.dir, 'keys.json');
    await writeFile(out, 'old', { mode: 0o644 });
    await chmod(out, 0o644);
    expect((await run(['export-sidecar', '--store', `sqlite:${demo.db}`, '--out', out, '--force'])).code).toBe(0);
    expect(await mode(out)).toBe(0o600);
    expect(JSON.parse(await readFile(out, 'utf8')).version).toBe(2);
    const target = join(demo.dir, 'target.txt');
    await writeFile(target, 'precious');
    const link = join(demo.dir, 'link.json');
    await symlink(target, link);
    const r = await run(['export-sidecar', '--store', `sqlite:${demo.db}`, '--out', link, '--force']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is a symbolic link: refusing to write through it');
    expect(await readFile(target, 'utf8')).toBe('precious');
    expect(await readlink(link)).toBe(target);
  });

  it.skipIf(!CAN_MOUNT)(
    'export-sidecar › on a full disk (a real tmpfs) the old backup stays whole and no file blocks the retry',
    async () => {
      const demo = await runDemo(await tempDir());
      const disk = tinyDisk(64);
      try {
        const out = join(disk.dir, 'keys.json');
        const first = await run(['export-sidecar', '--store', `sqlite:${demo.db}`, '--out', out]);
        expect(first.code, first.stderr).toBe(0);
        const before = await readFile(out, 'utf8');
        fill(disk.dir);
        const forced = await run(['export-sidecar', '--store', `sqlite:${demo.db}`, '--out', out, '--force']);
        expect(forced.code).toBe(1);
        expect(forced.stderr).toMatch(/cannot write .*keys\.json \(ENOSPC\); the old file is unchanged/);
        expect(await readFile(out, 'utf8')).toBe(before);
        const fresh = join(disk.dir, 'new.json');
        const failed = await run(['export-sidecar', '--store', `sqlite:${demo.db}`, '--out', fresh]);
        expect(failed.code).toBe(1);
        expect(existsSync(fresh)).toBe(false);
        expect((await readdir(disk.dir)).sort()).toEqual(['filler', 'keys.json']);
      } finally {
        disk.release();
      }
    },
  );

  it.skipIf(!CAN_MOUNT)('replay › a full disk (a real tmpfs) halts with ERR_STORE_IO and exits 1, the I/O exit code', async () => {
    const dir = await tempDir();
    const log = join(dir, 'big.jsonl');
    execFileSync(process.execPath, [join(FIXTURES, 'big-log.mjs'), log, '20000']);
    const disk = tinyDisk(256);
    try {
      const r = await run(['replay', log, '--store', `sqlite:${join(disk.dir, 'r.db')}`, '--group-size', '500']);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/ERR_STORE_IO|SQLITE_FULL|full/);
    } finally {
      disk.release();
    }
  });
});

describe('stores the CLI only reads (issue 11.11)', () => {
  it('inspect › an unrelated SQLite file is not switched to WAL nor given a table; an empty directory gets no LMDB environment', async () => {
    const dir = await tempDir();
    const other = join(dir, 'app.db');
    execFileSync('python3', [
      '-c',
      `import sqlite3; c=sqlite3.connect(${JSON.stringify(other)}); c.execute('create table t(x)'); c.commit()`,
    ]);
    const before = await readFile(other);
    for (const command of ['inspect', 'export-sidecar']) {
      const r = await run([command, '--store', `sqlite:${other}`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('ERR_STORE_NOT_FOUND');
    }
    expect(await readFile(other)).toEqual(before);
    expect(await readdir(dir)).toEqual(['app.db']);
    const empty = join(dir, 'empty');
    execFileSync('mkdir', [empty]);
    for (const scheme of ['lmdb', 'level']) {
      const r = await run(['inspect', '--store', `${scheme}:${empty}`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('ERR_STORE_NOT_FOUND');
    }
    expect(await readdir(empty)).toEqual([]);
  });

  it('inspect › stored strings are shown escaped: an imported created field cannot send terminal escapes', async () => {
    const demo = await runDemo(await tempDir());
    const doc = JSON.parse((await run(['export-sidecar', '--store', `sqlite:${demo.db}`])).stdout);
    doc.keys['1'].created = '2025\u001b]0;pwned\u0007\u001b[2J\u009b31m\u202e';
    const sidecar = join(demo.dir, 'evil.json');
    await writeFile(sidecar, JSON.stringify(doc), { mode: 0o600 });
    const store = `sqlite:${join(demo.dir, 'evil.db')}`;
    expect((await run(['import-sidecar', sidecar, '--store', store])).code).toBe(0);
    for (const args of [[], ['--json']]) {
      const r = await run(['inspect', '--store', store, ...args]);
      expect(r.code, r.stderr).toBe(0);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: no control character may reach the terminal
      expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
      expect(r.stdout).toContain('2025\\u001b]0;pwned\\u0007\\u001b[2J\\u009b31m\\u202e');
    }
    // Escaping is for display only: --json still parses to the stored string.
    expect(json(await run(['inspect', '--store', store, '--json'])).deks[0].created).toBe(doc.keys['1'].created);
  });
});

describe('inputs that are not regular files, or too long (issue 11.7, 11.8)', () => {
  it('replay, import-sidecar and conformance refuse a FIFO at once instead of blocking', async () => {
    const dir = await tempDir();
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const cases: [string[], string][] = [
      [['replay', fifo, '--store', `sqlite:${join(dir, 'r.db')}`], 'log'],
      [['import-sidecar', fifo, '--store', `sqlite:${join(dir, 'r.db')}`], 'sidecar'],
      [['conformance', fifo], 'module'],
    ];
    for (const [args, what] of cases) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toContain(`${what} ${fifo} is a FIFO: give a regular file`);
      expect(r.ms).toBeLessThan(20_000);
    }
    expect((await lstat(fifo)).isFIFO()).toBe(true);
  });

  it('a --store of the wrong kind (FIFO, device, a file for a directory and back) is refused at once by reading and writing commands, and left as it was', async () => {
    const dir = await tempDir();
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const file = join(dir, 'file');
    await writeFile(file, 'x');
    const log = join(dir, 'log.jsonl');
    await writeFile(log, `${JSON.stringify({ index: '1', entry: '0301000000010000000000000005000a' })}\n`);
    const cases: [string[], string][] = [
      [['inspect', '--store', `lmdb:${fifo}`], `lmdb:${fifo} cannot hold a keyledger store (a FIFO, not a directory)`],
      [['replay', log, '--store', `sqlite:${fifo}`], `sqlite:${fifo} cannot hold a keyledger store (a FIFO, not a regular file)`],
      [
        ['replay', log, '--store', 'sqlite:/dev/null'],
        'sqlite:/dev/null cannot hold a keyledger store (a character device, not a regular file)',
      ],
      [['replay', log, '--store', `level:${file}`], `level:${file} cannot hold a keyledger store (a regular file, not a directory)`],
      [['export-sidecar', '--store', `sqlite:${dir}`], `sqlite:${dir} cannot hold a keyledger store (a directory, not a regular file)`],
      [
        ['replay', log, '--store', `lmdb:${file}/below`],
        `lmdb:${file}/below cannot hold a keyledger store (under a parent that is not a directory)`,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toContain(`error: ERR_UNSUPPORTED_STORE: ${message}: check --store`);
      expect(r.ms).toBeLessThan(20_000);
    }
    expect((await lstat(fifo)).isFIFO()).toBe(true);
    expect(await readFile(file, 'utf8')).toBe('x');
    expect((await readdir(dir)).sort()).toEqual(['fifo', 'file', 'log.jsonl']);
  });

  it('replay › a line over the cap is reported as FILE:LINE, exit 1, without reading it whole', async () => {
    const dir = await tempDir();
    const log = join(dir, 'long.jsonl');
    await writeFile(log, `{"index":"1","entry":"03"}\n{"index":"2","entry":"${'ab'.repeat(3 * 1024 * 1024)}"}\n`);
    const r = await run(['replay', log, '--store', `sqlite:${join(dir, 'r.db')}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${log}:2: malformed log line: longer than 1048576 bytes`);
    expect(r.stderr).not.toContain('RangeError');
    expect(existsSync(join(dir, 'r.db'))).toBe(false);
  });

  it('replay › lines appended while it runs are neither validated nor applied: the snapshot is the file at start', async () => {
    const dir = await tempDir();
    const log = join(dir, 'host.jsonl');
    const count = 150_000;
    // Host entries (opcode 0x01) only: they are read and counted, quickly, and change nothing.
    await writeFile(log, Array.from({ length: count }, (_, i) => `{"index":"${i + 1}","entry":"01"}\n`).join(''));
    const { spawn } = await import('node:child_process');
    const { BIN } = await import('./helpers.js');
    const child = spawn(process.execPath, [BIN, 'replay', log, '--store', `sqlite:${join(dir, 'r.db')}`, '--progress-interval', '1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    // Appended once validation is under way: a malformed line, then one more host entry.
    const appended = new Promise<void>((resolveAppend) => {
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        const first = !stderr.includes('validate: ');
        stderr += d;
        if (first && stderr.includes('validate: ')) {
          void writeFile(log, 'not json\n{"index":"999999999","entry":"01"}\n', { flag: 'a' }).then(() => resolveAppend());
        }
      });
    });
    const code = await new Promise<number | null>((r) => child.on('close', r));
    await appended;
    expect(code, stderr).toBe(0);
    expect(stdout).toContain(`applied 0 of ${count} entries`);
    expect(stdout).toContain(`skipped ${count} host entries`);
  });
});
