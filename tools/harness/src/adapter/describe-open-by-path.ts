import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type AdapterStore, CODES } from './codes.js';
import { type FixtureModule, holdInChild, openInChild } from './child-open.js';
import { bytes, rejectionCode } from './preamble.js';

/** What the shared adapter cases need to know about an adapter. */
export interface AdapterCaseOptions {
  /** The adapter's class name, for case titles. */
  name: string;
  /** What the store is at its path: a directory of files (lmdb, level) or one file (sqlite). */
  shape: 'directory' | 'file';
  /** The adapter's test fixture module (see {@link FixtureModule}). */
  fixture: FixtureModule;
  /** The adapter's `open(path, options)`, in this process. */
  open(path: string, options?: { create?: boolean }): Promise<AdapterStore>;
  freshDir: () => string;
}

const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8).padStart(4, '0');

/** Every file of the store at `path` and its mode: the directory's entries, or the file and its `-wal`/`-shm`/`-lock` companions. */
function storeFiles(path: string, shape: 'directory' | 'file'): Record<string, string> {
  const [dir, names] =
    shape === 'directory'
      ? [path, readdirSync(path)]
      : [dirname(path), readdirSync(dirname(path)).filter((n) => n.startsWith(basename(path)))];
  return Object.fromEntries(names.map((n) => [n, mode(join(dir, n))]));
}

/**
 * The cases of `open(path, { create })` every adapter shares: what it refuses before the native
 * library sees the path (in a child process, so that a crash fails the case instead of the test
 * runner), what `create: false` leaves untouched, and the modes of what it creates.
 */
export function describeOpenByPath(o: AdapterCaseOptions): void {
  const storePath = (dir: string): string => join(dir, o.shape === 'directory' ? 'store' : 'store.db');

  describe(`${o.name} › open(path, { create })`, () => {
    it.each(['/dev/null', '/dev/zero'])('refuses the device %s with ERR_UNSUPPORTED_STORE, without crashing', async (device) => {
      expect(await openInChild(o.fixture, device)).toEqual({ refused: CODES.UNSUPPORTED_STORE });
      expect(await openInChild(o.fixture, device, { create: false })).toEqual({ refused: CODES.UNSUPPORTED_STORE });
    });

    it('refuses a FIFO with ERR_UNSUPPORTED_STORE, without blocking on it', async () => {
      const fifo = join(o.freshDir(), 'fifo');
      execFileSync('mkfifo', [fifo]);
      expect(await openInChild(o.fixture, fifo)).toEqual({ refused: CODES.UNSUPPORTED_STORE });
    });

    it(`refuses a ${o.shape === 'directory' ? 'regular file' : 'directory'} with ERR_UNSUPPORTED_STORE, and leaves it as it was`, async () => {
      const path = join(o.freshDir(), 'other');
      if (o.shape === 'directory') writeFileSync(path, 'not a store');
      else mkdirSync(path);
      const before = statSync(path);
      expect(await rejectionCode(o.open(path))).toBe(CODES.UNSUPPORTED_STORE);
      expect(statSync(path).mtimeMs).toBe(before.mtimeMs);
      expect(statSync(path).mode).toBe(before.mode);
    });

    it('create: false on a missing path is ERR_STORE_NOT_FOUND and creates nothing', async () => {
      const path = storePath(join(o.freshDir(), 'missing-parent'));
      expect(await rejectionCode(o.open(path, { create: false }))).toBe(CODES.STORE_NOT_FOUND);
      expect(existsSync(dirname(path))).toBe(false);
    });

    it(`create: false on an empty ${o.shape} is ERR_STORE_NOT_FOUND and leaves it empty, mode unchanged`, async () => {
      const path = storePath(o.freshDir());
      if (o.shape === 'directory') mkdirSync(path, { mode: 0o755 });
      else writeFileSync(path, '', { mode: 0o644 });
      const before = mode(path);
      expect(await rejectionCode(o.open(path, { create: false }))).toBe(CODES.STORE_NOT_FOUND);
      expect(o.shape === 'directory' ? readdirSync(path) : statSync(path).size).toEqual(o.shape === 'directory' ? [] : 0);
      expect(mode(path)).toBe(before);
    });

    it('create: false opens a store that exists, with its rows', async () => {
      const path = storePath(o.freshDir());
      const made = await o.open(path);
      await made.write([{ key: bytes(7), value: bytes(8) }]);
      await made.close();
      const again = await o.open(path, { create: false });
      expect(await again.get(bytes(7))).toEqual(bytes(8));
      await again.close();
    });

    it('rejects a create option that is not a boolean with ERR_INVALID_ARGUMENT', async () => {
      const path = storePath(o.freshDir());
      expect(await rejectionCode(o.open(path, { create: 'no' as never }))).toBe(CODES.INVALID_ARGUMENT);
      expect(existsSync(path)).toBe(false);
    });

    if (o.shape === 'directory') {
      it('refuses a directory that holds other files with ERR_UNSUPPORTED_STORE, adding nothing to it', async () => {
        const path = storePath(o.freshDir());
        mkdirSync(path);
        writeFileSync(join(path, '000005.log'), 'the user’s own file');
        expect(await rejectionCode(o.open(path))).toBe(CODES.UNSUPPORTED_STORE);
        expect(readdirSync(path)).toEqual(['000005.log']);
      });
    }

    it('creates its files 0600 and its directory 0700 under umask 022 (in a child process)', async () => {
      const path = storePath(join(o.freshDir(), 'new-parent'));
      const { held, child } = holdInChild(o.fixture, path, {}, 0o022);
      await held;
      // Read while the child holds the store open, a row written: WAL and shm files exist then.
      const files = storeFiles(path, o.shape);
      child.kill();
      await child.done;
      expect(Object.keys(files).length).toBeGreaterThan(0);
      expect(files).toEqual(Object.fromEntries(Object.keys(files).map((n) => [n, '0600'])));
      expect(mode(o.shape === 'directory' ? path : dirname(path))).toBe('0700');
    });
  });
}
