// The CLI as `npm install -g` gives it to a user who wants only the CLI: its tarball with the
// tarballs of the workspace packages it depends on (npm cannot fetch those from the registry
// before they are published), into an empty global prefix. No vitest, no dev dependencies, no
// optional adapter. Then every command runs from that prefix's bin directory, and core's
// conformance runner is imported (ESM and CJS) in a project that has no vitest.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './pack-packages.mjs';

function sh(cmd, args, cwd, expectCode = 0) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  if (r.status !== expectCode) {
    const err = new Error(`${cmd} ${args.join(' ')}: exit ${r.status}, expected ${expectCode}`);
    Object.assign(err, { stdout: r.stdout, stderr: `${r.stderr}\n${err.message}\n` });
    throw err;
  }
  return r;
}

/** Workspace packages `name` needs at run time (dependencies, transitively), by package name. */
function workspaceClosure(packed, name, seen = new Set()) {
  if (seen.has(name)) return seen;
  seen.add(name);
  const pkg = packed.find((p) => p.name === name);
  for (const dep of Object.keys(pkg.manifest.dependencies ?? {})) {
    if (packed.some((p) => p.name === dep)) workspaceClosure(packed, dep, seen);
  }
  return seen;
}

/**
 * Registers the checks with `step(name, fn)`. `scratch` must be an empty directory with no
 * node_modules above it, or Node would find packages there that the install does not hold.
 */
export function cliAloneChecks(step, packed, scratch) {
  const prefix = join(scratch, 'prefix');
  const work = join(scratch, 'work');
  mkdirSync(work, { recursive: true });
  const bin = join(prefix, 'bin', 'keyledger');
  const cli = (args, code = 0) => sh(bin, args, work, code);
  const names = [...workspaceClosure(packed, '@keyledger/cli')];
  let demoDir;

  step(`npm install -g --prefix of the CLI alone (${names.join(', ')})`, () => {
    const tarballs = names.map((n) => packed.find((p) => p.name === n).tarball);
    sh('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', ...tarballs], scratch);
    const modules = join(prefix, 'lib', 'node_modules');
    for (const absent of ['vitest', 'lmdb', 'level', 'classic-level', '@keyledger/lmdb', '@keyledger/level', 'tsup', 'typescript']) {
      const found = execFileSync('find', [modules, '-path', `*/node_modules/${absent}`, '-maxdepth', '6'], { encoding: 'utf8' }).trim();
      if (found !== '') throw new TypeError(`the CLI-alone install holds ${absent}: ${found}`);
    }
  });
  step('installed CLI: keyledger --version', () => {
    const want = JSON.parse(readFileSync(join(root, 'packages', 'cli', 'package.json'), 'utf8')).version;
    const got = cli(['--version']).stdout.trim();
    if (got !== want) throw new TypeError(`--version printed ${got}, expected ${want}`);
  });
  step('installed CLI: keyledger demo', () => {
    const out = cli(['demo']).stdout;
    if (!/ERR_LOCAL_EPOCH_ROLLBACK/.test(out) || !/ERR_NODE_ID_COLLISION/.test(out)) throw new TypeError(`demo lacks the halts:\n${out}`);
    demoDir = join(work, /directory (\S+)/.exec(out)[1]);
  });
  step('installed CLI: keyledger replay (halts at index 35, exit 2) and inspect --json equal to the demo store', () => {
    cli(
      ['replay', join(demoDir, 'demo-log.jsonl'), '--kek', join(demoDir, 'kek.bin'), '--store', `sqlite:${join(demoDir, 'replica.db')}`],
      2,
    );
    const a = JSON.parse(cli(['inspect', '--json', '--store', `sqlite:${join(demoDir, 'registry.db')}`]).stdout);
    const b = JSON.parse(cli(['inspect', '--json', '--store', `sqlite:${join(demoDir, 'replica.db')}`]).stdout);
    if (a.version !== 1) throw new TypeError(`inspect --json has no version field: ${JSON.stringify(a).slice(0, 80)}`);
    if (JSON.stringify({ ...a, store: '' }) !== JSON.stringify({ ...b, store: '' }))
      throw new TypeError('replayed store differs from the demo store');
  });
  step('installed CLI: keyledger inspect (text) and keygen', () => {
    if (!/raft index 28/.test(cli(['inspect', '--store', `sqlite:${join(demoDir, 'registry.db')}`]).stdout))
      throw new TypeError('inspect text');
    cli(['keygen', join(work, 'kek-2.bin')]);
  });
  step('installed CLI: export-sidecar, then import-sidecar into a fresh store', () => {
    const keys = join(work, 'keys.json');
    cli(['export-sidecar', '--store', `sqlite:${join(demoDir, 'registry.db')}`, '--out', keys]);
    cli(['import-sidecar', keys, '--store', `sqlite:${join(work, 'restored.db')}`, '--kek', join(demoDir, 'kek.bin')]);
  });
  step('installed CLI: --store lmdb: without @keyledger/lmdb says what to install (exit 1)', () => {
    const r = cli(['inspect', '--store', `lmdb:${join(work, 'nothing')}`], 1);
    if (!/npm install -g @keyledger\/lmdb/.test(r.stderr)) throw new TypeError(`no install hint:\n${r.stderr}`);
  });
  step('installed CLI: keyledger conformance against the JSON-file example module', () => {
    const dir = join(work, 'backend');
    mkdirSync(join(dir, 'node_modules', '@keyledger'), { recursive: true });
    cpSync(join(root, 'examples', 'json-file-store', 'index.mjs'), join(dir, 'index.mjs'));
    // The module imports @keyledger/core: the copy the CLI installed, as a user's project would have its own.
    symlinkSync(join(prefix, 'lib', 'node_modules', '@keyledger', 'core'), join(dir, 'node_modules', '@keyledger', 'core'), 'dir');
    const out = cli(['conformance', join(dir, 'index.mjs'), '--crash-rounds', '1']).stdout;
    if (!/: \d+ passed, 0 failed/.test(out)) throw new TypeError(`conformance summary missing:\n${out}`);
  });
  const project = join(scratch, 'no-vitest');
  step('a project without vitest: npm install of core alone', () => {
    mkdirSync(project);
    cpSync(join(root, 'scripts', 'pack-no-vitest'), project, { recursive: true });
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'no-vitest', private: true, type: 'module' }));
    sh('npm', ['install', '--no-audit', '--no-fund', packed.find((p) => p.name === '@keyledger/core').tarball], project);
    if (existsSync(join(project, 'node_modules', 'vitest'))) throw new TypeError('vitest got installed');
  });
  step('a project without vitest: import { runConformance } (ESM)', () =>
    console.log(`     ${sh('node', ['run-conformance.mjs'], project).stdout.trim()}`),
  );
  step('a project without vitest: require(@keyledger/core/conformance) (CJS)', () =>
    console.log(`     ${sh('node', ['run-conformance.cjs'], project).stdout.trim()}`),
  );
}
