// The repository's Markdown, parsed once for the checks that read it: its files, its links, its
// headings' anchors and its fenced code blocks. Parsing with markdown-it (not regular expressions)
// keeps links inside code blocks out and reference-style links in.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import GithubSlugger from 'github-slugger';
import MarkdownIt from 'markdown-it';

// `--root DIR` points the checks at another tree (their own tests use small fixture repositories).
const rootArg = process.argv.indexOf('--root');
export const root = resolve(rootArg > 0 ? process.argv[rootArg + 1] : join(import.meta.dirname, '..'));
const md = new MarkdownIt({ html: true });

/** Files git tracks, and new files it would track, relative to the root (generated and ignored ones left out). */
export function repositoryFiles() {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: root, encoding: 'utf8' });
  return out.split('\0').filter((f) => f !== '');
}

export function markdownFiles() {
  return repositoryFiles().filter((f) => f.endsWith('.md'));
}

export function parseMarkdown(text) {
  return md.parse(text, {});
}

/** The plain text of an inline token, as GitHub renders it before it builds a heading's anchor. */
function inlineText(token) {
  return (token.children ?? []).map((c) => (c.type === 'text' || c.type === 'code_inline' ? c.content : '')).join('');
}

/** GitHub's anchors for the headings of a Markdown text (`#` + slug), duplicates numbered as GitHub does. */
export function headingAnchors(text) {
  const slugger = new GithubSlugger();
  const tokens = parseMarkdown(text);
  const anchors = new Set();
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i].type === 'heading_open') anchors.add(slugger.slug(inlineText(tokens[i + 1])));
  }
  return anchors;
}

/** Every link and image target of a Markdown text, with its line, HTML `href`/`src` attributes included. */
export function linkTargets(text) {
  const out = [];
  const visit = (token, line) => {
    if (token.type === 'link_open') out.push({ target: token.attrGet('href'), line });
    if (token.type === 'image') out.push({ target: token.attrGet('src'), line });
    if (token.type === 'html_block' || token.type === 'html_inline') {
      for (const m of token.content.matchAll(/\b(?:href|src)\s*=\s*"([^"]*)"/g)) out.push({ target: m[1], line });
    }
    for (const child of token.children ?? []) visit(child, line);
  };
  for (const token of parseMarkdown(text)) visit(token, (token.map?.[0] ?? 0) + 1);
  return out;
}

/**
 * The fenced code blocks of a Markdown text: `lang` is the info string's first word, `meta` the
 * `name` or `name=value` words after it (```` ```js file=my-store.mjs ````, ```` ```ts runnable ````),
 * `section` the nearest heading above the block.
 */
export function fencedBlocks(text) {
  const tokens = parseMarkdown(text);
  const blocks = [];
  let section = '';
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.type === 'heading_open') section = inlineText(tokens[i + 1]);
    if (t.type !== 'fence') continue;
    const [lang = '', ...words] = t.info.trim().split(/\s+/);
    const meta = new Map(words.map((w) => (w.includes('=') ? [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)] : [w, true])));
    blocks.push({ lang, meta, code: t.content, line: (t.map?.[0] ?? 0) + 1, section });
  }
  return blocks;
}

export function readRepositoryFile(file) {
  return readFileSync(join(root, file), 'utf8');
}
