import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ANSI, PACKAGE_DIR, run, runDemo, tempDir } from './helpers.js';

const COMMANDS = ['demo', 'replay', 'inspect', 'conformance', 'keygen', 'export-sidecar', 'import-sidecar'];

describe('keyledger (every command)', () => {
  it.each(COMMANDS)('help › %s --help shows usage, exit codes and an example, exit 0', async (command) => {
    const r = await run([command, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: keyledger ${command}`);
    expect(r.stdout).toMatch(/Exit codes: 0 /);
    expect(r.stdout).toMatch(/Examples?:\n {2}\$ keyledger /);
  });

  it('help › keyledger --help lists every command; --version prints the package version', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    const v = await run(['--version']);
    expect(v.stdout.trim()).toBe(JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')).version);
  });

  it('usage › an unknown command, an unknown option, or no command at all exit 1', async () => {
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("error: unknown command 'frobnicate'");
    const option = await run(['inspect', '--frob']);
    expect(option.code).toBe(1);
    expect(option.stderr).toContain("error: unknown option '--frob'");
    const none = await run([]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('Usage: keyledger');
  });

  it('colour › off on a pipe and with NO_COLOR; FORCE_COLOR turns it on unless NO_COLOR is set', async () => {
    const demo = await runDemo(await tempDir());
    const args = ['inspect', '--store', `sqlite:${demo.db}`];
    const pipe = await run(args, { env: { NO_COLOR: '', FORCE_COLOR: '' } });
    expect(pipe.stdout).not.toMatch(ANSI);
    const forced = await run(args, { env: { NO_COLOR: '', FORCE_COLOR: '1' } });
    expect(forced.stdout).toMatch(ANSI);
    const both = await run(args, { env: { NO_COLOR: '1', FORCE_COLOR: '1' } });
    expect(both.stdout).not.toMatch(ANSI);
    expect(both.stdout).toBe(pipe.stdout);
  });
});
