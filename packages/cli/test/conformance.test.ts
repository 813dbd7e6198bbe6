import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, exampleModules, json, run, tempDir } from './helpers.js';

describe('keyledger conformance', () => {
  it('conformance › the JSON-file example backend passes every case, none skipped (exit 0)', async () => {
    const { example } = await exampleModules();
    const r = await run(['conformance', example]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const cases = r.stdout.split('\n').filter((l) => /^(pass|FAIL|skip) {2}/.test(l));
    expect(cases.length).toBeGreaterThan(30);
    expect(cases.every((l) => l.startsWith('pass  '))).toBe(true);
    expect(r.stdout).toContain('pass  crash › every acknowledged write survives SIGKILL and no write is half-visible');
    expect(r.stdout).toContain(
      "pass  backend failure › get on a failed backend rejects with ERR_STORE_IO carrying the backend's error as cause",
    );
    expect(r.stdout).toContain(
      'pass  atomicity › a write whose persist fails rejects with ERR_STORE_IO and none of its puts become visible',
    );
    expect(r.stdout).toMatch(new RegExp(`^json-file: ${cases.length} passed, 0 failed, 0 skipped$`, 'm'));
  });

  it('conformance › a broken backend (scan in reverse order) fails with reasons and exits 2', async () => {
    const { broken } = await exampleModules();
    const r = await run(['conformance', broken, '--filter', 'contract › scan']);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^FAIL {2}contract › scan yields keys in unsigned byte order$/m);
    // The reason is printed, indented, under the failing case, and names the bug.
    expect(r.stdout).toMatch(
      /^FAIL {2}contract › scan yields keys in unsigned byte order\n {6}.*keys must come in unsigned byte order \(see `compareBytes`\)/m,
    );
    expect(r.stdout).toMatch(/^reversed-scan: \d+ passed, 1 failed, \d+ skipped$/m);
  });

  it('conformance › --json reports every case with its status; skipped cases carry their reason', async () => {
    const dir = await tempDir();
    // A backend without breakBackend: the ERR_STORE_IO cases are skipped, with the reason.
    const { example } = await exampleModules();
    const wrapper = join(dir, 'no-break.mjs');
    await writeFile(wrapper, `export { openStore } from ${JSON.stringify(example)};\n`);
    const r = await run(['conformance', wrapper, '--json', '--filter', 'backend failure']);
    expect(r.code, r.stderr).toBe(0);
    const report = json(r);
    expect(report).toMatchObject({ name: 'no-break.mjs', passed: 0, failed: 0, skipped: 4 });
    for (const c of report.cases) {
      expect(c.status).toBe('skipped');
      expect(c.reason).toContain('no breakBackend option');
    }
  });

  it('conformance › prints skipped cases as skip with the reason', async () => {
    const dir = await tempDir();
    const { example } = await exampleModules();
    const wrapper = join(dir, 'no-break.mjs');
    await writeFile(wrapper, `export { openStore } from ${JSON.stringify(example)};\n`);
    const r = await run(['conformance', wrapper, '--filter', 'backend failure › get ']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^skip {2}backend failure › get on a failed backend rejects with ERR_STORE_IO carrying the backend's error as cause — no breakBackend option/m,
    );
  });

  it('conformance › a module without openStore, a missing module, or a filter matching nothing exit 1', async () => {
    const dir = await tempDir();
    const bad = join(dir, 'bad.mjs');
    await writeFile(bad, 'export const open = () => null;\n');
    const noExport = await run(['conformance', bad]);
    expect(noExport.code).toBe(1);
    expect(noExport.stderr).toContain('does not export a function openStore(dir)');
    const missing = await run(['conformance', join(dir, 'missing.mjs')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/error: cannot read module .*missing\.mjs \(ENOENT\)/);
    const { example } = await exampleModules();
    const none = await run(['conformance', example, '--filter', 'no such case']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no case matches --filter');
  });
});

describe('keyledger conformance with a module that misbehaves (issue 11.9)', () => {
  it('conformance › an openStore that never settles, one returning null, and a missing --tmp-dir each get one clear error, exit 1', async () => {
    const never = await run(['conformance', join(FIXTURES, 'never-settles.mjs'), '--open-timeout', '300']);
    expect(never.code).toBe(1);
    expect(never.stderr).toContain('openStore(dir) did not settle within 300 ms (--open-timeout)');
    const nil = await run(['conformance', join(FIXTURES, 'returns-null.mjs')]);
    expect(nil.code).toBe(1);
    expect(nil.stderr).toContain('openStore(dir) returned null: it must return a RegistryStore (get, write, scan, close)');
    expect(nil.stderr).not.toContain('Cannot read properties');
    const { example } = await exampleModules();
    const noTmp = await run(['conformance', example, '--tmp-dir', join(await tempDir(), 'missing')]);
    expect(noTmp.code).toBe(1);
    expect(noTmp.stderr).toMatch(/--tmp-dir .*missing does not exist/);
    expect(noTmp.stdout).not.toMatch(/FAIL/);
    const asJson = await run(['conformance', join(FIXTURES, 'returns-null.mjs'), '--json']);
    expect(asJson.code).toBe(1);
    expect(JSON.parse(asJson.stderr)).toMatchObject({
      version: 1,
      error: { message: expect.stringContaining('returned null') },
      exit_code: 1,
    });
  });
});
