import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { tmpdir } from 'node:os';
import { moduleUrl } from './crash-child.js';

/** The syscalls that make written data durable; any one of them inside a write counts. */
export const SYNC_CALLS = ['fsync', 'fdatasync', 'msync', 'sync_file_range'] as const;
export type SyncCall = (typeof SYNC_CALLS)[number];

export interface WriteSyncTrace {
  /** Sync syscalls started between each write's call and its resolution, in write order. */
  perWrite: number[];
  /** The same, summed per syscall over all writes. */
  totals: Record<SyncCall, number>;
}

/**
 * The child brackets every write with access() calls on paths that cannot exist: strace records
 * them, so the parent can tell which sync syscalls happened while a write was pending.
 */
const WRITER = `
import { accessSync } from 'node:fs';
const [url, dir, count] = process.argv.slice(1);
const mark = (tag) => {
  try { accessSync('/nonexistent-keyledger-marker-' + tag); } catch {}
};
const { openStore } = await import(url);
const store = await openStore(dir);
for (let i = 0; i < Number(count); i++) {
  mark('begin-' + i);
  await store.write([{ key: new Uint8Array([0x6b, 0x00, i & 0xff, 0xff]), value: new Uint8Array([i & 0xff, 0x00, 0xff]) }]);
  mark('end-' + i);
}
await store.close();
`;

/** The strace binary on PATH, or undefined. */
export function findStrace(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'strace');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * Opens the store of `module` (exporting `openStore(dir)`) over `dir` in a child process under
 * `strace -f` and counts the sync syscalls inside each of `writes` one-put writes. A write with
 * none resolved before its data was durable: a power cut right after would lose an acknowledged
 * write, which a plain SIGKILL never shows.
 */
export function traceWriteSyncs(module: string, dir: string, writes = 20): WriteSyncTrace {
  const strace = findStrace();
  if (!strace) throw new TypeError('strace is not on PATH');
  const logDir = mkdtempSync(join(tmpdir(), 'keyledger-strace-'));
  try {
    const log = join(logDir, 'strace.log');
    const r = spawnSync(
      strace,
      [
        '-f',
        '-e',
        `trace=access,faccessat,faccessat2,${SYNC_CALLS.join(',')}`,
        '-o',
        log,
        process.execPath,
        '--input-type=module',
        '-e',
        WRITER,
        moduleUrl(module),
        dir,
        String(writes),
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    if (r.error) throw r.error;
    if (r.status !== 0) throw new TypeError(`the traced child exited with ${r.status ?? r.signal}: ${r.stderr.trim().slice(0, 500)}`);
    return countSyncs(readFileSync(log, 'utf8'), writes);
  } finally {
    rmSync(logDir, { recursive: true, force: true });
  }
}

// "fsync(3 <unfinished ...>" counts (the call started); "<... fsync resumed>" does not.
const SYNC_CALL_LINE = new RegExp(`^\\d+\\s+(${SYNC_CALLS.join('|')})\\(`);

function countSyncs(trace: string, writes: number): WriteSyncTrace {
  const counts = Array.from({ length: writes }, () => Object.fromEntries(SYNC_CALLS.map((k) => [k, 0])) as Record<SyncCall, number>);
  const seen = new Set<string>();
  let current = -1;
  for (const line of trace.split('\n')) {
    const marker = /nonexistent-keyledger-marker-(begin|end)-(\d+)/.exec(line);
    if (marker) {
      seen.add(`${marker[1]}-${marker[2]}`);
      current = marker[1] === 'begin' ? Number(marker[2]) : -1;
      continue;
    }
    const call = SYNC_CALL_LINE.exec(line);
    if (call && current >= 0) counts[current]![call[1] as SyncCall]++;
  }
  for (let i = 0; i < writes; i++) {
    if (!seen.has(`begin-${i}`) || !seen.has(`end-${i}`)) throw new TypeError(`write ${i}'s markers are missing from the trace`);
  }
  return {
    perWrite: counts.map((c) => SYNC_CALLS.reduce((sum, k) => sum + c[k], 0)),
    totals: Object.fromEntries(SYNC_CALLS.map((k) => [k, counts.reduce((sum, c) => sum + c[k], 0)])) as Record<SyncCall, number>,
  };
}
