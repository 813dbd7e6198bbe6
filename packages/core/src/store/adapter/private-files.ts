import { chmodSync, closeSync, fchmodSync, mkdirSync, openSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Owner read and write: a store file holds wrapped DEKs, as readable as the sidecar export (0600). */
export const PRIVATE_FILE_MODE = 0o600;
/** Owner only: nobody else may list or enter a store directory (0700). */
export const PRIVATE_DIRECTORY_MODE = 0o700;

function hasCode(err: unknown, code: string): boolean {
  return (err as { code?: unknown } | null)?.code === code;
}

/**
 * Creates `path` as an empty 0600 file, whatever the process umask, before any backend writes to
 * it; returns false (and changes nothing) when it already exists. Backends that create companion
 * files from their main file's mode (SQLite's `-wal` and `-shm`) then create those 0600 too.
 */
export function createPrivateFile(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', PRIVATE_FILE_MODE);
  } catch (err) {
    if (hasCode(err, 'EEXIST')) return false;
    throw err;
  }
  try {
    // The mode given to open() passes through the umask; fchmod does not.
    fchmodSync(fd, PRIVATE_FILE_MODE);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Creates the directory `path` (and missing parents) and makes `path` itself 0700, whatever the umask. */
export function createPrivateDirectory(path: string): void {
  mkdirSync(path, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  chmodSync(path, PRIVATE_DIRECTORY_MODE);
}

/**
 * Narrows every regular file directly inside `dir` to 0600. For backends that create their files
 * themselves with the umask's mode (LevelDB): run right after each open, before any row is
 * written. Files the backend adds while open are covered by the 0700 directory around them. A
 * file another user owns (EPERM) is left as it is: it is not this process's to change.
 */
export function restrictFilesIn(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    try {
      chmodSync(join(dir, entry.name), PRIVATE_FILE_MODE);
    } catch (err) {
      if (!hasCode(err, 'EPERM')) throw err;
    }
  }
}
