import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const scripts = fileURLToPath(new URL('../../../scripts/', import.meta.url));
const trees: string[] = [];
afterEach(() => {
  for (const t of trees.splice(0)) rmSync(t, { recursive: true, force: true });
});

/** A small git repository holding `files`, for the checks to read instead of this one. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'keyledger-md-check-'));
  trees.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  execFileSync('git', ['init', '-q'], { cwd: dir });
  return dir;
}

async function check(script: string, root: string): Promise<{ code: number; out: string }> {
  return run(process.execPath, [join(scripts, script), '--root', root], { encoding: 'utf8' }).then(
    ({ stdout }) => ({ code: 0, out: stdout }),
    (err: { code: number; stdout: string }) => ({ code: err.code, out: err.stdout }),
  );
}

const design = '# Design\n\n## Store contract\n\n## Registration rule\n';

describe('check-markdown-links', () => {
  it('passes links to files, directories and anchors that exist', async () => {
    const root = tree({
      'README.md': '# Top\n[d](docs/design.md#registration-rule) [s](#top) [p](pkg) [w](https://example.org/x)\n',
      'docs/design.md': design,
      'pkg/index.js': '',
    });
    expect(await check('check-markdown-links.mjs', root)).toMatchObject({ code: 0 });
  });

  it('fails on a missing file, a missing anchor, a link above the root and an untracked generated file', async () => {
    const root = tree({
      'README.md': '# Top\n[a](nope.md) [b](docs/design.md#nope) [c](../shared/SPEC.md) [d](/etc/x) [e](api/index.html)\n',
      'docs/design.md': design,
      '.gitignore': 'api/\n',
      'api/index.html': '',
    });
    const { code, out } = await check('check-markdown-links.mjs', root);
    expect(code).toBe(1);
    expect(out).toContain('nope.md does not exist');
    expect(out).toContain('docs/design.md has no heading with anchor #nope');
    expect(out).toContain('../shared/SPEC.md — points outside the repository');
    expect(out).toContain('/etc/x — points outside the repository');
    expect(out).toContain('api/index.html exists here but is not in the repository');
    expect(out).toContain('5 broken');
  });
});

describe('check-citations', () => {
  it('passes citations by section name', async () => {
    const root = tree({ 'docs/design.md': design, 'src/a.ts': "// docs/design.md, 'Store contract', 'Registration rule'\n" });
    expect(await check('check-citations.mjs', root)).toMatchObject({ code: 0 });
  });

  it('fails on numbered SPEC citations, ../shared and a section that does not exist', async () => {
    const root = tree({
      'docs/design.md': design,
      'src/a.ts': "// rule (SPEC §6.1)\n// see ../shared/STYLE.md\n// docs/design.md, 'Nope'\n",
    });
    const { code, out } = await check('check-citations.mjs', root);
    expect(code).toBe(1);
    expect(out).toContain('src/a.ts:1: cites a document outside the repository');
    expect(out).toContain('src/a.ts:2: cites a document outside the repository');
    expect(out).toContain("src/a.ts:3: docs/design.md has no section 'Nope'");
  });
});
