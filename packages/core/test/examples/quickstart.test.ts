import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The README's quickstart is what a new user runs first: it must run, and the README must show
// the file that runs (its header comment aside).
const script = fileURLToPath(new URL('../../examples/quickstart.mjs', import.meta.url));
const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

describe('examples/quickstart.mjs', () => {
  it('is the script the README shows', () => {
    const section = readme.slice(readme.indexOf('## Quickstart'));
    const shown = /```js[^\n]*\n([\s\S]*?)```/.exec(section)?.[1];
    const code = readFileSync(script, 'utf8').replace(/^(\/\/.*\n)+/, '');
    expect(shown).toBe(code);
  });

  it('bootstraps, registers, rotates, cuts over, reopens with the KEK and refuses another KEK', () => {
    const out = execFileSync(process.execPath, [script], { encoding: 'utf8' });
    expect(out).toContain('index 1: bootstrap bootstrapped');
    expect(out.match(/registration inserted/g)).toHaveLength(3);
    expect(out).toContain('index 5: rotation rotated');
    expect(out).toContain('index 7: rotation enabled');
    expect(out).toContain('reopened with the same KEK: keystore rebuilt with DEKs 1, 2, 3');
    expect(out).toContain('reopened with another KEK: ERR_KEK_MISMATCH');
    const sidecar = JSON.parse(out.slice(out.indexOf('{')));
    expect(sidecar).toMatchObject({
      version: 2,
      raft_applied_index: 7,
      storage_envelope_active: true,
      storage_envelope_cutover_index: 6,
      raft_envelope_cutover_index: 7,
      active: { storage: 3, raft: 2 },
    });
    expect(Object.keys(sidecar.keys)).toEqual(['1', '2', '3']);
  });
});
