// Fails when a relative link in the repository's Markdown does not resolve — a missing file, a file
// git does not track (generated output such as docs/api), a missing `#anchor` in a Markdown target —
// or when a link leaves the repository (`../` above the root, an absolute or `file:` path). Links
// with a scheme (https:, mailto:) are not fetched: the check runs offline.
import { existsSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { headingAnchors, linkTargets, markdownFiles, readRepositoryFile, repositoryFiles, root } from './markdown.mjs';

const tracked = new Set(repositoryFiles());
const trackedDirs = new Set();
for (const f of tracked) for (let d = dirname(f); d !== '.'; d = dirname(d)) trackedDirs.add(d);
const anchorsOf = new Map();
const anchors = (file) => {
  if (!anchorsOf.has(file)) anchorsOf.set(file, headingAnchors(readRepositoryFile(file)));
  return anchorsOf.get(file);
};

/** Why `target`, linked from `file`, is broken; undefined when it resolves. */
function problem(file, target) {
  if (target === null || target === '') return 'empty link';
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) && !/^file:/i.test(target)) return undefined; // https:, mailto:, …
  if (/^file:/i.test(target) || target.startsWith('/') || target.startsWith('//')) {
    return 'points outside the repository (absolute path): use a path relative to this file';
  }
  const [rawPath, rawAnchor] = target.split('#', 2);
  const path = decodeURIComponent(rawPath.split('?')[0]);
  const resolved = path === '' ? file : normalize(join(dirname(file), path));
  if (resolved === '..' || resolved.startsWith(`..${sep}`) || relative(root, join(root, resolved)).startsWith('..')) {
    return 'points outside the repository';
  }
  const rel = resolved.split(sep).join('/').replace(/\/$/, '');
  const isDir = rel === '.' || trackedDirs.has(rel);
  if (!tracked.has(rel) && !isDir) {
    return existsSync(join(root, rel)) ? `${rel} exists here but is not in the repository (ignored or generated)` : `${rel} does not exist`;
  }
  if (rawAnchor !== undefined) {
    if (isDir || !rel.endsWith('.md') || statSync(join(root, rel)).isDirectory()) return undefined; // only Markdown anchors are known
    if (!anchors(rel).has(decodeURIComponent(rawAnchor))) return `${rel} has no heading with anchor #${rawAnchor}`;
  }
  return undefined;
}

let checked = 0;
const broken = [];
for (const file of markdownFiles()) {
  for (const { target, line } of linkTargets(readRepositoryFile(file))) {
    checked++;
    const why = problem(file, target);
    if (why) broken.push(`${file}:${line}: ${target} — ${why}`);
  }
}
for (const b of broken) console.log(b);
console.log(`markdown links: ${checked} checked, ${broken.length} broken`);
process.exit(broken.length > 0 ? 1 : 0);
