// Prints a result file's tables as Markdown, for BENCHMARKS.md:
//   node src/markdown.mjs [results/latest.json]
import { readFileSync } from 'node:fs';
import { encryptorTables, etcdTable, figuresTable, ratios, targetsTable } from './report.mjs';

const result = JSON.parse(readFileSync(process.argv[2] ?? new URL('../results/latest.json', import.meta.url), 'utf8'));
// Ratios are derived figures: recomputed, so that a file written before a ratio existed still prints.
for (const f of Object.values(result.backends)) f.ratios = ratios(f);
console.log(figuresTable(result, 'markdown'));
console.log();
console.log(targetsTable(result, 'markdown'));
for (const section of [encryptorTables(result, 'markdown'), etcdTable(result, 'markdown')]) {
  if (!section) continue;
  console.log();
  console.log(section);
}
