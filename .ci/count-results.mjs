// Sums vitest's JSON reports (one per package) into the single line CI reads: "N passed, N failed".
// A package whose report is missing counts as a failure, so a crashed test run cannot look green.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
// Workspace packages: everything under packages/ and examples/, plus the bench and reliability packages.
const packageDirs = ['bench', 'reliability'];
for (const dir of ['packages', 'examples']) {
  if (existsSync(dir)) packageDirs.push(...readdirSync(dir).map((name) => join(dir, name)));
}
for (const pkg of packageDirs) {
  const manifest = join(pkg, 'package.json');
  if (!existsSync(manifest)) continue;
  const scripts = JSON.parse(readFileSync(manifest, 'utf8')).scripts ?? {};
  if (!scripts.test) continue;
  const report = join(pkg, '.vitest-report.json');
  if (!existsSync(report)) {
    missing.push(pkg);
    continue;
  }
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed += r.numPassedTests ?? 0;
  failed += r.numFailedTests ?? 0;
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  if (r.success === false && (r.numFailedTests ?? 0) === 0) failed += 1; // a suite that failed to load
}
if (missing.length > 0) {
  console.log(`no test report from: ${missing.join(', ')}`);
  failed += missing.length;
}
// Skips are reported on their own line: the last line must be exactly "N passed, N failed".
console.log(`${skipped} skipped (each with its reason in the vitest output)`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
