// After `pnpm run docs`: the API reference shows the README's Mermaid diagram as a drawing, from a
// copy of mermaid inside docs/api (no CDN: the reference must work offline), and holds the design
// document as a page.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './markdown.mjs';

const api = join(root, 'docs', 'api');
const index = readFileSync(join(api, 'index.html'), 'utf8');
const problems = [];
if (!/<div class="mermaid light">[^<]*flowchart/.test(index))
  problems.push('index.html: the README diagram is not turned into a mermaid block');
if (!index.includes('./assets/mermaid/mermaid.esm.min.mjs')) problems.push('index.html: mermaid is not loaded from the local copy');
if (/https?:\/\/[^"]*mermaid/.test(index)) problems.push('index.html: mermaid is loaded from the network');
if (!existsSync(join(api, 'assets', 'mermaid', 'mermaid.esm.min.mjs'))) problems.push('assets/mermaid/mermaid.esm.min.mjs is missing');
if (!existsSync(join(api, 'documents', 'design.html'))) problems.push('documents/design.html is missing');
for (const p of problems) console.log(p);
console.log(`api docs: ${problems.length} problem(s)`);
process.exit(problems.length > 0 ? 1 : 0);
