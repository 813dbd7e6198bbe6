import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
// One place reads the READMEs' code blocks: scripts/test-pack.mjs takes the root README's backend
// example from the same parser.
import { fencedBlocks, readRepositoryFile, repositoryFiles } from '../../../scripts/markdown.mjs';

const run = promisify(execFile);
const here = fileURLToPath(new URL('..', import.meta.url));
// Inside this package, so that `@keyledger/*` and the storage libraries resolve from its node_modules.
mkdirSync(join(here, '.run'), { recursive: true });
const scratch = mkdtempSync(join(here, '.run', 'examples-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const CODE_LANGS = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs']);
const readmes = repositoryFiles().filter((f) => /(^|\/)README\.md$/.test(f));
const blocks = readmes.flatMap((readme) =>
  fencedBlocks(readRepositoryFile(readme))
    .filter((b) => CODE_LANGS.has(b.lang))
    .map((b) => ({ ...b, readme, label: `${readme}:${b.line} (${b.section})` })),
);
const runnable = blocks.filter((b) => b.meta.has('runnable'));

/** What each runnable example must print, beyond exiting 0, by README and section; every runnable example must be listed. */
const EXPECTED_OUTPUT: Record<string, RegExp[]> = {
  'packages/core/README.md#Usage': [/index 1: bootstrap/, /index 2: registration/, /index 3: registration/],
  'packages/core/README.md#Encryptor: the nonce-safe write path': [/^epoch 1: 39-byte envelope opens to hello$/m],
  'packages/lmdb/README.md#Usage': [/^registration$/m],
  'packages/level/README.md#Usage': [/^registration$/m],
  'packages/sqlite/README.md#Usage': [/^registration$/m],
};

function exampleKey(b: (typeof blocks)[number]): string {
  return `${b.readme}#${b.section}`;
}

function fileName(b: (typeof blocks)[number]): string {
  return `${b.readme.replace(/[^a-z0-9]+/gi, '-')}-${b.line}`;
}

describe('README code examples', () => {
  it('every ts/js block of every README is either run here (`runnable`) or names the file it is (`file=`)', () => {
    const unmarked = blocks.filter((b) => !b.meta.has('runnable') && !b.meta.has('file')).map((b) => b.label);
    expect(unmarked).toEqual([]);
    expect(runnable.length).toBeGreaterThanOrEqual(4);
    expect(new Set(runnable.map(exampleKey))).toEqual(new Set(Object.keys(EXPECTED_OUTPUT)));
  });

  it('the TypeScript examples type-check as copied (strict, against the built packages)', async () => {
    const tsBlocks = runnable.filter((b) => b.lang === 'ts' || b.lang === 'typescript');
    const dir = join(scratch, 'typecheck');
    mkdirSync(dir);
    const files = tsBlocks.map((b) => {
      const file = `${fileName(b)}.mts`;
      writeFileSync(join(dir, file), b.code);
      return file;
    });
    const compilerOptions = { strict: true, noEmit: true, module: 'nodenext', target: 'es2022', types: ['node'], skipLibCheck: true };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files }));
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' }).catch((err: { stdout: string }) => err);
    expect(result.stdout).toBe('');
  });

  it.each(runnable.map((b) => [b.label, b] as const))('%s runs and prints what it says', async (_label, b) => {
    const js = b.lang.startsWith('t')
      ? ts.transpileModule(b.code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText
      : b.code;
    const file = join(scratch, `${fileName(b)}.mjs`);
    writeFileSync(file, js);
    const { stdout } = await run(process.execPath, [file], { cwd: scratch, encoding: 'utf8' });
    for (const pattern of EXPECTED_OUTPUT[exampleKey(b)] ?? []) expect(stdout).toMatch(pattern);
  });

  it('the core README quickstart block is examples/quickstart.mjs (core runs that file in its own test)', () => {
    const quickstart = blocks.find((b) => b.meta.get('file') === 'examples/quickstart.mjs');
    const file = readFileSync(fileURLToPath(new URL('../../../packages/core/examples/quickstart.mjs', import.meta.url)), 'utf8');
    expect(quickstart?.readme).toBe('packages/core/README.md');
    expect(file.replace(/^(\/\/.*\n)+/, '')).toBe(quickstart?.code);
  });
});
