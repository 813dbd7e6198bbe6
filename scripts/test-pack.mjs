// Installs the packed tarballs into a scratch project with plain npm (no workspace links) and
// uses them as a user would: ESM and CJS, tsc under node16 and bundler resolution, a custom
// backend checked by the conformance suite under vitest (and a broken one failing), and the CLI.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fencedBlocks } from './markdown.mjs';
import { cliAloneChecks } from './pack-cli-alone.mjs';
import { packAll, root } from './pack-packages.mjs';

const scratch = mkdtempSync(join(tmpdir(), 'keyledger-test-pack-'));
const results = [];
function step(name, fn) {
  const started = Date.now();
  try {
    fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (err) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name}\n${String(err.stdout ?? '')}${String(err.stderr ?? '')}${err.stdout ? '' : err.message}`);
  }
}
/** The files of the README's "Write your own backend" section: its blocks fenced as ```js file=NAME. */
function readmeBackendExample() {
  const files = fencedBlocks(readFileSync(join(root, 'README.md'), 'utf8'))
    .filter((b) => b.section === 'Write your own backend' && b.meta.has('file'))
    .map((b) => [b.meta.get('file'), b.code]);
  if (files.length !== 3) throw new TypeError(`README's "Write your own backend" has ${files.length} file blocks, expected 3`);
  return files;
}

const run = (cmd, args) =>
  execFileSync(cmd, args, { cwd: scratch, encoding: 'utf8', stdio: 'pipe', env: { ...process.env, NO_COLOR: '1' } });

try {
  execFileSync('pnpm', ['run', 'build'], { cwd: root, stdio: 'inherit', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } });
  const tarballs = join(scratch, 'tarballs');
  mkdirSync(tarballs);
  const packed = packAll(tarballs);
  for (const p of packed) console.log(`packed ${p.name} ${(p.size / 1024).toFixed(1)} KiB`);
  for (const f of readdirSync(join(root, 'scripts', 'pack-fixtures'))) cpSync(join(root, 'scripts', 'pack-fixtures', f), join(scratch, f));
  // The used-by path is the root README's own "Write your own backend" code, taken from the README
  // so that the section a new user follows is the one CI proves.
  for (const [file, code] of readmeBackendExample()) writeFileSync(join(scratch, file), code);
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }, null, 2));
  step('npm install of the tarballs (no workspace)', () =>
    run('npm', [
      'install',
      '--no-audit',
      '--no-fund',
      ...packed.map((p) => p.tarball),
      'better-sqlite3@^12.6.2',
      'lmdb@^3.5.6',
      'level@^10.0.0',
      'classic-level@^3.0.0',
      'typescript@~5.9.3',
      'vitest@~4.1.12',
      '@types/node@^20.9.0',
    ]),
  );
  step('ESM import of core and each adapter; a registration survives reopening', () => console.log(run('node', ['esm.mjs']).trim()));
  step('CJS require of core, conformance and each adapter', () => console.log(run('node', ['cjs.cjs']).trim()));
  for (const resolution of ['node16', 'bundler']) {
    const module = resolution === 'node16' ? 'node16' : 'esnext';
    writeFileSync(
      join(scratch, `tsconfig.${resolution}.json`),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module,
          moduleResolution: resolution,
          target: 'es2022',
          types: ['node'],
          skipLibCheck: false,
        },
        files: ['sample.ts'],
      }),
    );
    step(`tsc --noEmit with moduleResolution ${resolution}`, () => run('npx', ['tsc', '-p', `tsconfig.${resolution}.json`]));
  }
  step('custom backend passes the conformance suite under vitest (used-by path)', () => {
    // The command the README shows: with it every case prints by name, a skipped one with its reason.
    const out = run('npx', ['vitest', 'run', 'my-store.test', '--reporter=verbose']);
    const m = /Tests\s+(\d+) passed(?: \| (\d+) skipped)?/.exec(out);
    if (!m) throw new TypeError(`no vitest summary in:\n${out}`);
    const named = out.match(/^\s*✓ .+ > .+ > .+$/gm)?.length ?? 0;
    const skippedWithReason = out.match(/^\s*↓ .+ > .+\[.+\]\s*$/gm)?.length ?? 0;
    if (named !== Number(m[1]) || skippedWithReason !== Number(m[2] ?? 0))
      throw new TypeError(`--reporter=verbose did not print the cases by name and the skip reasons:\n${out}`);
    console.log(`     ${m[1]} conformance cases passed, ${m[2] ?? 0} skipped (cases that need a breakBackend hook)`);
  });
  step('a broken custom backend fails the conformance suite', () => {
    let failedAsExpected = false;
    try {
      run('npx', ['vitest', 'run', 'my-broken-store.test']);
    } catch (err) {
      failedAsExpected = /scan yields keys in unsigned byte order/.test(String(err.stdout));
    }
    if (!failedAsExpected) throw new TypeError('the broken backend was not caught by "scan yields keys in unsigned byte order"');
  });
  // Issue 12.1: the CLI alone, as a user installs it globally, and core's runner without vitest.
  // A directory of its own, not under the scratch project: Node resolves packages up the tree, so
  // under it the scratch project's vitest and adapters would be found and the check would prove nothing.
  const alone = mkdtempSync(join(tmpdir(), 'keyledger-test-pack-alone-'));
  try {
    cliAloneChecks(step, packed, alone);
  } finally {
    rmSync(alone, { recursive: true, force: true });
  }
  step('npx keyledger demo from the installed CLI', () => {
    const out = run('npx', ['keyledger', 'demo']);
    if (!/ERR_LOCAL_EPOCH_ROLLBACK/.test(out) || !/ERR_NODE_ID_COLLISION/.test(out))
      throw new TypeError(`demo output lacks the two halts:\n${out}`);
    console.log(`     demo printed ${out.split('\n').length} lines, both halts explained`);
  });
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
const failed = results.filter((r) => !r.ok).length;
console.log(`test:pack: ${results.length - failed} of ${results.length} checks passed`);
process.exit(failed > 0 ? 1 : 0);
