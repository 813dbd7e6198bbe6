import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// Durability proof: a child process performs N writes under strace; every write must contain at
// least one sync syscall between its begin and end markers. A write that resolves before its sync
// would be lost by a power cut after the caller was told it was stored.
const ADAPTER = 'level';
const STRACE = '/usr/bin/strace';
const hasStrace = existsSync(STRACE);
const N = 20;
const SYNC_CALLS = ['fsync', 'fdatasync', 'msync', 'sync_file_range'] as const;
const child = fileURLToPath(new URL('./fixtures/durability-child.mjs', import.meta.url));
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const dirs: string[] = [];

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

type SyncCounts = Record<(typeof SYNC_CALLS)[number], number>;

/** Sync syscalls started between `marker-begin-i` and `marker-end-i`, per write. */
function syncsPerWrite(trace: string, n: number): SyncCounts[] {
  const counts: SyncCounts[] = Array.from({ length: n }, () => ({ fsync: 0, fdatasync: 0, msync: 0, sync_file_range: 0 }));
  const seen = new Set<string>();
  let current = -1;
  for (const line of trace.split('\n')) {
    const marker = /nonexistent-keyledger-marker-(begin|end)-(\d+)/.exec(line);
    if (marker) {
      seen.add(`${marker[1]}-${marker[2]}`);
      current = marker[1] === 'begin' ? Number(marker[2]) : -1;
      continue;
    }
    // "fsync(3 <unfinished ...>" counts (the call started); "<... fsync resumed>" does not.
    const call = /^\d+\s+(fsync|fdatasync|msync|sync_file_range)\(/.exec(line);
    if (call && current >= 0) counts[current]![call[1] as keyof SyncCounts]++;
  }
  for (let i = 0; i < n; i++) {
    if (!seen.has(`begin-${i}`) || !seen.has(`end-${i}`)) throw new TypeError(`marker pair ${i} missing from the trace`);
  }
  return counts;
}

describe(`${ADAPTER} durability under strace`, () => {
  const title = `syncs inside each of ${N} writes${hasStrace ? '' : ` (skipped: ${STRACE} not found)`}`;
  it.skipIf(!hasStrace)(title, () => {
    expect(existsSync(dist), 'build first (npx tsup): the child process loads dist/index.js').toBe(true);
    const dir = mkdtempSync(join(tmpdir(), `keyledger-${ADAPTER}-strace-`));
    dirs.push(dir);
    const log = join(dir, 'strace.log');
    const r = spawnSync(
      STRACE,
      ['-f', '-e', `trace=access,faccessat,faccessat2,${SYNC_CALLS.join(',')}`, '-o', log, process.execPath, child, dir, String(N)],
      { encoding: 'utf8', timeout: 50_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const counts = syncsPerWrite(readFileSync(log, 'utf8'), N);
    const perWrite = counts.map((c) => SYNC_CALLS.reduce((s, k) => s + c[k], 0));
    const totals = Object.fromEntries(SYNC_CALLS.map((k) => [k, counts.reduce((s, c) => s + c[k], 0)]));
    console.log(
      `[${ADAPTER}] ${N} writes: sync syscalls per write min ${Math.min(...perWrite)} max ${Math.max(...perWrite)}, totals ${JSON.stringify(totals)}`,
    );
    for (let i = 0; i < N; i++) expect(perWrite[i], `write ${i} returned without a sync`).toBeGreaterThan(0);
  });
});
