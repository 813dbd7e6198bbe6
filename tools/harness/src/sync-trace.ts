import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { moduleUrl } from './run-child.js';

/** The syscalls that make written data durable; any one of them inside a write counts. */
export const SYNC_CALLS = ['fsync', 'fdatasync', 'msync', 'sync_file_range'] as const;
export type SyncCall = (typeof SYNC_CALLS)[number];

const RENAME_CALLS = ['rename', 'renameat', 'renameat2'] as const;

export interface WriteSyncTrace {
  /** Sync syscalls started between each write's call and its resolution, in write order. */
  perWrite: number[];
  /** The same, summed per syscall over all writes. */
  totals: Record<SyncCall, number>;
  /**
   * Writes (by position) that renamed a file into place and resolved without syncing the
   * directory the file was renamed into afterwards: the rename itself is not durable until the
   * directory is, so a power loss can bring back the old file.
   */
  renamesWithoutDirSync: number[];
}

/**
 * The child brackets every write with access() calls on paths that cannot exist: strace records
 * them, so the parent can tell which syscalls happened while a write was pending.
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
 * `strace -f -y` and reports, for each of `writes` one-put writes, the sync syscalls inside it and
 * whether a rename inside it was followed by a sync of the target directory. A write with no sync
 * resolved before its data was durable: a power cut right after would lose an acknowledged write,
 * which a plain SIGKILL never shows.
 */
export function traceWriteSyncs(module: string, dir: string, writes = 20): WriteSyncTrace {
  const strace = findStrace();
  if (!strace) throw new Error('strace is not on PATH');
  const logDir = mkdtempSync(join(tmpdir(), 'keyledger-strace-'));
  try {
    const log = join(logDir, 'strace.log');
    const traced = ['access', 'faccessat', 'faccessat2', ...SYNC_CALLS, ...RENAME_CALLS].join(',');
    const r = spawnSync(
      strace,
      [
        '-f',
        '-y',
        '-e',
        `trace=${traced}`,
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
    if (r.status !== 0) throw new Error(`the traced child exited with ${r.status ?? r.signal}: ${r.stderr.trim().slice(0, 500)}`);
    return analyse(readFileSync(log, 'utf8'), writes);
  } finally {
    rmSync(logDir, { recursive: true, force: true });
  }
}

// "fsync(3</d/f> <unfinished ...>" counts (the call started); "<... fsync resumed>" does not.
const SYNC_LINE = new RegExp(`^\\d+\\s+(${SYNC_CALLS.join('|')})\\((\\d+)(?:<([^>]*)>)?`);
// rename("a", "b") = 0 and renameat2(AT_FDCWD</d>, "a", AT_FDCWD</d>, "b", 0) = 0; failed renames do not count.
const RENAME_LINE = /^\d+\s+rename(?:at2?)?\((.*)\)\s+=\s+0\b/;

/** The directory a successful rename put its file in, absolute when strace printed enough to tell. */
function renameTargetDir(args: string): string | undefined {
  const quoted = [...args.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
  const target = quoted[quoted.length - 1];
  if (target === undefined) return undefined;
  if (target.startsWith('/')) return dirname(target);
  // renameat*(olddirfd, old, newdirfd</dir>, new): a relative target lives in newdirfd's directory.
  const dirFds = [...args.matchAll(/(?:AT_FDCWD|\d+)<([^>]*)>/g)].map((m) => m[1]!);
  const base = dirFds[dirFds.length - 1];
  return base === undefined ? undefined : dirname(join(base, target));
}

function analyse(trace: string, writes: number): WriteSyncTrace {
  const counts = Array.from({ length: writes }, () => Object.fromEntries(SYNC_CALLS.map((k) => [k, 0])) as Record<SyncCall, number>);
  const renamesWithoutDirSync = new Set<number>();
  const seen = new Set<string>();
  let current = -1;
  let unsyncedDirs = new Set<string>();
  for (const line of trace.split('\n')) {
    const marker = /nonexistent-keyledger-marker-(begin|end)-(\d+)/.exec(line);
    if (marker) {
      seen.add(`${marker[1]}-${marker[2]}`);
      if (marker[1] === 'end' && unsyncedDirs.size > 0) renamesWithoutDirSync.add(current);
      current = marker[1] === 'begin' ? Number(marker[2]) : -1;
      unsyncedDirs = new Set();
      continue;
    }
    if (current < 0) continue;
    const sync = SYNC_LINE.exec(line);
    if (sync) {
      counts[current]![sync[1] as SyncCall]++;
      if (sync[3] !== undefined) unsyncedDirs.delete(sync[3]);
      continue;
    }
    const rename = RENAME_LINE.exec(line);
    if (rename) {
      const target = renameTargetDir(rename[1]!);
      if (target !== undefined) unsyncedDirs.add(target);
    }
  }
  for (let i = 0; i < writes; i++) {
    if (!seen.has(`begin-${i}`) || !seen.has(`end-${i}`)) throw new Error(`write ${i}'s markers are missing from the trace`);
  }
  return {
    perWrite: counts.map((c) => SYNC_CALLS.reduce((sum, k) => sum + c[k], 0)),
    totals: Object.fromEntries(SYNC_CALLS.map((k) => [k, counts.reduce((sum, c) => sum + c[k], 0)])) as Record<SyncCall, number>,
    renamesWithoutDirSync: [...renamesWithoutDirSync].sort((a, b) => a - b),
  };
}
