// Package lint for every public package: required manifest fields, publint, and
// @arethetypeswrong/cli on the packed tarball; lists tarball sizes and contents problems.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packAll, root } from './pack-packages.mjs';

const required = ['name', 'version', 'description', 'license', 'repository', 'keywords', 'engines', 'files'];
const libraryFields = ['exports', 'types', 'sideEffects'];
const problems = [];
const dest = mkdtempSync(join(tmpdir(), 'keyledger-lint-'));
try {
  for (const pkg of packAll(dest)) {
    const m = pkg.manifest;
    const isLibrary = !m.bin;
    for (const f of [...required, ...(isLibrary ? libraryFields : [])]) {
      if (m[f] === undefined) problems.push(`${pkg.name}: package.json lacks "${f}"`);
    }
    const files = execFileSync('tar', ['-tzf', pkg.tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const f of files) {
      if (/\.(test|spec)\.[cm]?[jt]s$|\/test\/|\/fixtures\//.test(f)) problems.push(`${pkg.name}: tarball contains test file ${f}`);
    }
    // Source maps point at ../src; ship the sources they name, or none.
    const maps = files.filter((f) => f.endsWith('.map'));
    const hasSrc = files.some((f) => f.startsWith('package/src/'));
    if (maps.length > 0 && !hasSrc) problems.push(`${pkg.name}: ${maps.length} source maps point to src/, which is not in the tarball`);
    try {
      execFileSync('npx', ['publint', '--strict', pkg.dir], { cwd: root, stdio: 'pipe', encoding: 'utf8' });
    } catch (err) {
      problems.push(`${pkg.name}: publint: ${(err.stdout || err.message).trim()}`);
    }
    if (isLibrary) {
      try {
        execFileSync('npx', ['attw', pkg.tarball, '--format', 'ascii', '--profile', 'node16'], {
          cwd: root,
          stdio: 'pipe',
          encoding: 'utf8',
        });
      } catch (err) {
        problems.push(`${pkg.name}: attw: ${(err.stdout || err.message).trim()}`);
      }
    }
    console.log(`${pkg.name.padEnd(20)} ${(pkg.size / 1024).toFixed(1).padStart(7)} KiB  ${files.length} files`);
  }
} finally {
  rmSync(dest, { recursive: true, force: true });
}
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('package lint: clean');
