import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
export const PACKAGE_DIR = resolve(here, '..');
// KEYLEDGER_TEST_BIN runs the tests against another build (e.g. main's, to see a new test fail there).
export const BIN = process.env.KEYLEDGER_TEST_BIN ?? join(PACKAGE_DIR, 'dist', 'bin.js');
export const REPO_DIR = resolve(PACKAGE_DIR, '..', '..');
export const EXAMPLE_DIR = join(REPO_DIR, 'examples', 'json-file-store');
export const FIXTURES = join(here, 'fixtures');

if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run the build (pnpm build) before the CLI tests`);

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the built binary as a child process, with colour off unless `env` says otherwise. */
export function run(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? PACKAGE_DIR,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr, ms: performance.now() - started }));
  });
}

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A fresh directory, removed after the test file. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'keyledger-cli-test-'));
  dirs.push(dir);
  return dir;
}

/**
 * Where the JSON-file example can be imported from. Once `pnpm install` has linked the example
 * package, that is the example itself; before, a copy next to a `node_modules/@keyledger/core`
 * link to this workspace's core, which is what the install would create.
 */
export async function exampleModules(): Promise<{ example: string; broken: string }> {
  const dir = await tempDir();
  await cp(join(FIXTURES, 'broken-store.mjs'), join(dir, 'broken-store.mjs'));
  await mkdir(join(dir, 'json-file-store'));
  await cp(join(EXAMPLE_DIR, 'index.mjs'), join(dir, 'json-file-store', 'index.mjs'));
  const linked = existsSync(join(EXAMPLE_DIR, 'node_modules', '@keyledger', 'core', 'package.json'));
  await mkdir(join(dir, 'node_modules', '@keyledger'), { recursive: true });
  await symlink(join(REPO_DIR, 'packages', 'core'), join(dir, 'node_modules', '@keyledger', 'core'), 'dir');
  return {
    example: linked ? join(EXAMPLE_DIR, 'index.mjs') : join(dir, 'json-file-store', 'index.mjs'),
    broken: join(dir, 'broken-store.mjs'),
  };
}

/** Runs `keyledger demo` in `cwd` and returns the directory it named, with its files. */
export async function runDemo(
  cwd: string,
  extra: string[] = [],
): Promise<RunResult & { dir: string; log: string; kek: string; db: string }> {
  const r = await run(['demo', ...extra], { cwd });
  const m = /directory (\S+)/.exec(r.stdout);
  if (r.code !== 0 || !m) throw new Error(`demo failed (${r.code}): ${r.stdout}\n${r.stderr}`);
  const dir = resolve(cwd, m[1]!);
  return { ...r, dir, log: join(dir, 'demo-log.jsonl'), kek: join(dir, 'kek.bin'), db: join(dir, 'registry.db') };
}

/** Parses stdout as JSON, failing with the output when it is not. */
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON documents and assert on their fields
export function json<T = any>(r: RunResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

/** The start of an ANSI escape sequence (CSI): present when, and only when, colour is on. */
export const ANSI = '\u001b[';
