import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The built suite as a project without vitest gets it: core's dist and package.json copied (not
// linked, so nothing resolves back into the workspace's node_modules) into a scratch project.

const core = fileURLToPath(new URL('../..', import.meta.url));
let project: string;

function node(file: string, source: string, env: NodeJS.ProcessEnv = {}): string {
  const path = join(project, file);
  writeFileSync(path, source);
  const { VITEST: _, VITEST_WORKER_ID: __, VITEST_POOL_ID: ___, ...rest } = process.env;
  return execFileSync(process.execPath, [path], { cwd: project, env: { ...rest, ...env }, encoding: 'utf8' });
}

beforeAll(() => {
  if (!existsSync(join(core, 'dist', 'conformance', 'index.cjs')))
    throw new Error('build core first (pnpm --filter @keyledger/core build)');
  project = mkdtempSync(join(tmpdir(), 'keyledger-no-vitest-'));
  const target = join(project, 'node_modules', '@keyledger', 'core');
  mkdirSync(target, { recursive: true });
  cpSync(join(core, 'dist'), join(target, 'dist'), { recursive: true });
  cpSync(join(core, 'package.json'), join(target, 'package.json'));
  // And core's own runtime dependencies, as an install brings them (snappyjs, for the envelope's flag bit 0).
  const { dependencies = {} } = JSON.parse(readFileSync(join(core, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  for (const dep of Object.keys(dependencies)) {
    cpSync(realpathSync(join(core, 'node_modules', dep)), join(project, 'node_modules', dep), { recursive: true });
  }
});
afterAll(() => rmSync(project, { recursive: true, force: true }));

const RUN = `
const report = await runConformance({ name: 'memory', open: () => new MemoryRegistryStore(), durable: false, filter: 'contract ›' });
let vitestResolves = true;
try { await import('vitest'); } catch { vitestResolves = false; }
console.log(JSON.stringify({ passed: report.passed, failed: report.failed, vitestResolves }));
`;

describe('the built runConformance needs no vitest', () => {
  it.each([
    ['outside vitest', {}],
    ['with VITEST=true inherited from a parent run', { VITEST: 'true' }],
  ])('ESM import of @keyledger/core/conformance runs the suite %s', (_, env) => {
    const out = node(
      'esm.mjs',
      `import { runConformance } from '@keyledger/core/conformance';\nimport { MemoryRegistryStore } from '@keyledger/core';\n${RUN}`,
      env,
    );
    expect(JSON.parse(out)).toMatchObject({ failed: 0, vitestResolves: false });
    expect(JSON.parse(out).passed).toBeGreaterThan(5);
  });

  it('CJS require of @keyledger/core/conformance runs the suite, sharing one copy of core with the main entry', () => {
    const out = node(
      'cjs.cjs',
      `const { runConformance, FaultyStore } = require('@keyledger/core/conformance');
const { MemoryRegistryStore, KeyledgerError } = require('@keyledger/core');
(async () => {
  const faulty = new FaultyStore(new MemoryRegistryStore());
  faulty.plan = { operation: 'get', nth: 1, mode: 'once' };
  const err = await faulty.get(new Uint8Array([1])).catch((e) => e);
  ${RUN.replace(/await import\('vitest'\)/, "require('vitest')").replace('console.log(JSON.stringify({', 'console.log(JSON.stringify({ sharedCore: err instanceof KeyledgerError,')}
})();`,
    );
    expect(JSON.parse(out)).toMatchObject({ failed: 0, vitestResolves: false, sharedCore: true });
  });

  it('describeRegistryStore without vitest fails with ERR_TEST_RUNNER_MISSING', () => {
    const out = node(
      'describe.mjs',
      `import { describeRegistryStore } from '@keyledger/core/conformance';
try { describeRegistryStore({ open: () => { throw new Error('never opened'); } }); } catch (err) { console.log(err.code); }`,
    );
    expect(out.trim()).toBe('ERR_TEST_RUNNER_MISSING');
  });

  it('a backend timer that throws after its case ended is reported in the summary instead of ending the process', () => {
    const out = node(
      'stray.mjs',
      `import { runConformance } from '@keyledger/core/conformance';
import { MemoryRegistryStore } from '@keyledger/core';
class Stray extends MemoryRegistryStore {
  async close() { await super.close(); setTimeout(() => { throw new Error('backend timer fired after close'); }, 1); }
}
const report = await runConformance({ name: 'stray', open: () => new Stray(), durable: false, filter: 'contract ›' });
console.log(JSON.stringify({ cases: report.cases.length, failed: report.failed, uncaught: report.uncaught }));`,
    );
    const report = JSON.parse(out);
    expect(report.cases).toBeGreaterThan(5);
    expect(report.failed).toBeGreaterThan(0);
    expect(report.uncaught[0]).toMatchObject({ error: 'Error: backend timer fired after close' });
    expect(report.uncaught[0].during).toMatch(/^contract › /);
  });
});
