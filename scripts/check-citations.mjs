// The design lives in docs/design.md and is cited by section name ("docs/design.md, 'Registration
// rule'"). This check fails on what would send a reader elsewhere or nowhere:
// - a citation of the old specification by number ("SPEC §6.1", "§5", "SPEC.md") or a pointer to a
//   directory beside the repository ("../shared", "STYLE.md"): someone who clones the repository has
//   neither;
// - a "docs/design.md, '<name>'" citation whose name is not a heading of docs/design.md (a
//   placeholder in angle brackets, as here, is not a citation).
// `--fix` rewrites the numbered citations that map to exactly one section and lists the rest.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMarkdown, readRepositoryFile, repositoryFiles, root } from './markdown.mjs';

// This file and its test hold the mistakes they look for on purpose.
const EXEMPT = new Set(['scripts/check-citations.mjs', 'examples/readme-examples/test/markdown-checks.test.ts']);
const TEXT = /\.(?:[cm]?[jt]s|tsx?|md|json|ya?ml|sh)$|^\.ci\//;
/** The old numbering and the section that now holds it; §6.2 (bootstrap and rotation) has two. */
const SECTION_OF = {
  1: 'Packages',
  2: 'Registry key',
  3: 'Entry framing',
  4: 'Error codes',
  5: 'Store contract',
  6: 'Applier',
  6.1: 'Registration rule',
  6.3: 'State record',
  6.4: 'KEK and keystore',
  7: 'Conformance suite',
};
const OUTSIDE = [/\bSPEC(?:\.md)?\b/, /§\s*\d/, /\.\.\/shared\b/, /\bSTYLE\.md\b/];
const NUMBERED = /\(?SPEC\s*§\s*(\d+(?:\.\d+)?)\)?/g;
const QUOTED = String.raw`\\?['"‘“][^'"’”\\\n]+\\?['"’”]`;
const CITATION = new RegExp(String.raw`docs/design\.md,\s*(?:section\s+)?(${QUOTED}(?:(?:,\s*|\s+and\s+)${QUOTED})*)`, 'g');

const sections = new Set();
const design = parseMarkdown(readRepositoryFile('docs/design.md'));
for (let i = 0; i < design.length; i++) {
  if (design[i].type === 'heading_open') sections.add(design[i + 1].content.replace(/`/g, ''));
}

const fix = process.argv.includes('--fix');
const problems = [];
for (const file of repositoryFiles()) {
  if (EXEMPT.has(file) || !TEXT.test(file) || file === 'pnpm-lock.yaml') continue;
  let text = readRepositoryFile(file);
  if (fix) {
    const fixed = text.replace(NUMBERED, (whole, n) => {
      const name = SECTION_OF[n];
      if (!name) return whole;
      const cite = `docs/design.md, '${name}'`;
      return whole.startsWith('(') && whole.endsWith(')') ? `(${cite})` : cite;
    });
    if (fixed !== text) {
      writeFileSync(join(root, file), fixed);
      text = fixed;
      console.log(`fixed ${file}`);
    }
  }
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const where = `${file}:${i + 1}`;
    if (OUTSIDE.some((pattern) => pattern.test(line))) problems.push(`${where}: cites a document outside the repository — ${line.trim()}`);
    for (const m of line.matchAll(CITATION)) {
      for (const [, name] of m[1].matchAll(/\\?['"‘“]([^'"’”\\]+)\\?['"’”]/g)) {
        if (!sections.has(name) && !/^<.+>$/.test(name)) problems.push(`${where}: docs/design.md has no section '${name}'`);
      }
    }
  });
}
for (const p of problems) console.log(p);
console.log(`citations: ${problems.length} problem(s); docs/design.md has ${sections.size} sections`);
process.exit(problems.length > 0 ? 1 : 0);
