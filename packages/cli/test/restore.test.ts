import { chmod, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, json, run, runDemo, tempDir } from './helpers.js';

/** `keyledger ARGS` as printed, with LOG and KEK replaced: the advice exactly as an operator would run it. */
function adviceArgs(output: string, command: string, replace: Record<string, string>): string[] {
  const line = output.split('\n').find((l) => l.trim().startsWith(`keyledger ${command} `));
  if (line === undefined) throw new Error(`no "keyledger ${command}" advice in:\n${output}`);
  return line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map((a) => replace[a] ?? a);
}

/** inspect --json of a store, without the field that names the store. */
async function inspected(store: string): Promise<unknown> {
  const r = await run(['inspect', '--json', '--store', store]);
  expect(r.code, r.stderr).toBe(0);
  return { ...json<Record<string, unknown>>(r), store: undefined };
}

describe('restoring a replica from a sidecar (issue 11.4)', () => {
  it('restore › demo → export-sidecar → import-sidecar → the printed replay: both halts halt again, inspect equals the original', async () => {
    const demo = await runDemo(await tempDir());
    const sidecar = join(demo.dir, 'keys.json');
    expect((await run(['export-sidecar', '--store', `sqlite:${demo.db}`, '--out', sidecar])).code).toBe(0);
    const target = `sqlite:${join(demo.dir, 'restored.db')}`;
    const imported = await run(['import-sidecar', sidecar, '--store', target, '--kek', demo.kek]);
    expect(imported.code, imported.stderr).toBe(0);
    // The restored store holds the registry with the state before anything is replayed.
    expect(await inspected(target)).toEqual(await inspected(`sqlite:${demo.db}`));

    const replay = await run(adviceArgs(imported.stdout, 'replay', { LOG: demo.log }));
    expect(replay.code, replay.stderr).toBe(2);
    expect(replay.stderr).toContain('halted at raft index 35');
    expect(replay.stderr).toContain('ERR_LOCAL_EPOCH_ROLLBACK');
    // A replica stops at its first halt; the collision entry, delivered on its own, halts too.
    const lines = (await readFile(demo.log, 'utf8')).trim().split('\n');
    const collisionLog = join(demo.dir, 'collision.jsonl');
    await writeFile(collisionLog, `${lines.at(-1)}\n`);
    const collision = await run(['replay', collisionLog, '--store', target, '--kek', demo.kek]);
    expect(collision.code, collision.stderr).toBe(2);
    expect(collision.stderr).toContain('halted at raft index 36');
    expect(collision.stderr).toContain('ERR_NODE_ID_COLLISION');
    expect(await inspected(target)).toEqual(await inspected(`sqlite:${demo.db}`));
  });

  it('restore › a keys.json without rows (as elastickv writes it) is refused, nothing is created, and its advice restores', async () => {
    const demo = await runDemo(await tempDir());
    const doc = JSON.parse((await run(['export-sidecar', '--store', `sqlite:${demo.db}`])).stdout);
    expect(doc.keyledger_registry.writers).toHaveLength(9);
    delete doc.keyledger_registry;
    const sidecar = join(demo.dir, 'elastickv-keys.json');
    await writeFile(sidecar, JSON.stringify(doc), { mode: 0o600 });
    const restoredPath = join(demo.dir, 'restored.db');
    const refused = await run(['import-sidecar', sidecar, '--store', `sqlite:${restoredPath}`, '--kek', demo.kek]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('carries no writer registry');
    expect(existsSync(restoredPath)).toBe(false);
    // The advice it prints: replay the log from its start into an empty store.
    const replay = await run(adviceArgs(refused.stderr, 'replay', { LOG: demo.log, KEK: demo.kek, URI: `sqlite:${restoredPath}` }));
    expect(replay.code, replay.stderr).toBe(2);
    expect(replay.stderr).toContain('ERR_LOCAL_EPOCH_ROLLBACK');
    // The log carries the demo's clock, so even each key's `created` is the original's.
    expect(await inspected(`sqlite:${restoredPath}`)).toEqual(await inspected(`sqlite:${demo.db}`));
  });

  it("demo › the compare step the demo prints (replay elsewhere, diff inspect --json) says 'same'", async () => {
    const cwd = await tempDir();
    const demo = await runDemo(cwd);
    const shim = join(cwd, 'keyledger');
    await writeFile(shim, `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    await chmod(shim, 0o700);
    const advice = demo.stdout.split('\n').filter((l) => /^\s+(keyledger replay|diff) /.test(l));
    expect(advice).toHaveLength(2);
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync('bash', ['-c', `${advice[0]!.trim()}; ${advice[1]!.trim()}`], {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, PATH: `${cwd}:${process.env.PATH}`, NO_COLOR: '1' },
    });
    expect(r.stdout, r.stderr).toContain('same state and writers');
  });
});
