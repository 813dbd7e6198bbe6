// Packs every public workspace package with `pnpm pack`, which rewrites `workspace:` ranges to
// the real versions exactly as `changeset publish` will, so what we test is what users install.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const root = resolve(import.meta.dirname, '..');

export function publicPackages() {
  return readdirSync(join(root, 'packages'))
    .map((name) => join(root, 'packages', name))
    .filter((dir) => {
      try {
        return !JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).private;
      } catch {
        return false;
      }
    })
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }));
}

export function packAll(dest) {
  return publicPackages().map(({ dir, manifest }) => {
    const out = execFileSync('pnpm', ['pack', '--pack-destination', dest], { cwd: dir, encoding: 'utf8' });
    const tarball = out.trim().split('\n').pop().trim();
    const path = tarball.startsWith('/') ? tarball : join(dest, tarball);
    return { name: manifest.name, dir, manifest, tarball: path, size: statSync(path).size };
  });
}
