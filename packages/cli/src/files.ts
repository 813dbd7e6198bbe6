import { constants } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CliError } from './cli-error.js';

/** Every file the CLI writes holds wrapped DEKs or the log that carries them: owner-only. */
const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

function errno(err: unknown): string {
  return (err as { code?: string }).code ?? 'error';
}

function kindOf(st: {
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSocket(): boolean;
  isDirectory(): boolean;
}): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a directory';
  return 'not a regular file';
}

/**
 * Opens a regular file for reading. O_NONBLOCK so that a FIFO with no writer is refused at once
 * instead of blocking forever (the check is on the opened descriptor, so nothing can swap the
 * file in between); a device, socket or directory is refused the same way.
 */
export async function openRegularFile(path: string, what: string): Promise<FileHandle> {
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    throw new CliError(`cannot read ${what} ${path} (${errno(err)})`, { cause: err });
  }
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    throw new CliError(`${what} ${path} is ${kindOf(st)}: give a regular file`);
  }
  return fh;
}

/** Reads a whole regular file as UTF-8 (see {@link openRegularFile}). */
export async function readRegularFile(path: string, what: string): Promise<string> {
  const fh = await openRegularFile(path, what);
  try {
    return await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
}

/** Creates a directory (and its parents) owner-only. */
export async function makePrivateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: DIR_MODE });
}

/** Flushes a directory, so that a rename inside it survives a power loss. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  await fh.sync().finally(() => fh.close());
}

/**
 * Writes `text` to `path` so that `path` is either its old self or the complete new file, even on
 * a full disk or a crash: a temporary file next to it (mode 0600), fsync, rename, fsync of the
 * directory. A symlink at `path` is refused, never followed; without `overwrite` an existing
 * `path` is refused before anything is written, so a failed write leaves nothing that blocks the
 * retry.
 */
export async function writeFileAtomically(path: string, text: string, options: { overwrite: boolean }): Promise<void> {
  const existing = await lstat(path).catch((err: unknown) => {
    if (errno(err) === 'ENOENT') return undefined;
    throw new CliError(`cannot write ${path} (${errno(err)})`, { cause: err });
  });
  if (existing?.isSymbolicLink()) throw new CliError(`${path} is a symbolic link: refusing to write through it`);
  if (existing !== undefined && !existing.isFile()) throw new CliError(`${path} is ${kindOf(existing)}: refusing to replace it`);
  if (existing !== undefined && !options.overwrite) throw new CliError(`${path} already exists: pass --force to overwrite it`);
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.tmp`);
  let fh: FileHandle | undefined;
  try {
    fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, FILE_MODE);
    await fh.writeFile(text);
    await fh.sync();
    await fh.close();
    fh = undefined;
    if (!options.overwrite) {
      // Checked again just before the rename: rename replaces silently.
      const now = await lstat(path).catch(() => undefined);
      if (now !== undefined) throw new CliError(`${path} already exists: pass --force to overwrite it`);
    }
    await rename(tmp, path);
    await syncDir(dir);
  } catch (err) {
    await fh?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot write ${path} (${errno(err)}); ${existing ? 'the old file is unchanged' : 'nothing was left behind'}`, {
      cause: err,
    });
  }
}
