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
    // Source maps carry the sources they name (sourcesContent), so no src/ copy ships.
    if (files.some((f) => f.startsWith('package/src/'))) problems.push(`${pkg.name}: tarball contains src/ (the maps carry the sources)`);
    for (const map of files.filter((f) => f.endsWith('.map'))) {
      const m = JSON.parse(execFileSync('tar', ['-xzOf', pkg.tarball, map], { encoding: 'utf8' }));
      const missing = m.sources.filter((_, i) => typeof m.sourcesContent?.[i] !== 'string');
      if (missing.length > 0) problems.push(`${pkg.name}: ${map} names ${missing.length} sources without sourcesContent`);
    }
    if (!files.includes('package/LICENSE')) problems.push(`${pkg.name}: tarball has no LICENSE`);
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
