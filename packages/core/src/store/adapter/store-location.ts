import { type Stats, chmodSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ErrorCode, KeyledgerError } from '../../errors.js';
import { describeFileKind } from '../../file-kind.js';
import type { AdapterErrors } from './adapter-errors.js';
import { PRIVATE_DIRECTORY_MODE, PRIVATE_FILE_MODE, createPrivateDirectory, createPrivateFile } from './private-files.js';

/** The options every adapter's `open(path, options)` takes. */
export interface StoreOpenOptions {
  /**
   * Make a store where the location holds none (default `true`). With `false`, a location without
   * a keyledger store is refused with `ERR_STORE_NOT_FOUND` and nothing is created or changed
   * there: what a tool that only reads a store (`keyledger inspect`) needs.
   */
  create?: boolean;
}

/** What a backend keeps at its location: a directory of files (LMDB, LevelDB) or one file (SQLite). */
export interface StoreLocationRules {
  shape: 'directory' | 'file';
  /** For a directory: the file every database of this backend has (LMDB `data.mdb`, LevelDB `CURRENT`). */
  marker?: string;
}

/**
 * What {@link prepareStoreLocation} found: `new`, nothing yet (with `create`, the location now
 * exists, empty, 0700 or 0600); `existing`, a database of the backend, which may or may not hold
 * keyledger's rows (the adapter checks, with the backend's own library).
 */
export type StoreLocationState = 'new' | 'existing';

/** Reads `create` from an adapter's `open` options (default `true`); anything but a boolean is a caller's error. */
export function readCreateOption(options: StoreOpenOptions | undefined): boolean {
  const create = (options as { create?: unknown } | undefined)?.create;
  if (create === undefined) return true;
  if (typeof create !== 'boolean') {
    throw new KeyledgerError(ErrorCode.INVALID_ARGUMENT, `open options: create must be a boolean, not ${typeof create}`);
  }
  return create;
}

function codeOf(err: unknown): unknown {
  return (err as { code?: unknown } | null)?.code;
}

/**
 * Checks an adapter's `open` path before the backend's native library sees it, and creates the
 * location when it is missing and `create` allows. Native libraries handed a device, a FIFO or
 * a file where they expect a directory crash the process (lmdb on `/dev/null`: SIGSEGV) or block
 * forever; this refuses them with `ERR_UNSUPPORTED_STORE` instead.
 *
 * The rule for `create: false` is: refuse with `ERR_STORE_NOT_FOUND` exactly where `create: true`
 * would have made a new store (nothing there, an empty directory, an empty file); refuse with
 * `ERR_UNSUPPORTED_STORE`, whatever `create` says, a location that can never hold one (wrong file
 * type, a directory of other files).
 */
export function prepareStoreLocation(
  errors: AdapterErrors,
  path: unknown,
  options: StoreOpenOptions | undefined,
  rules: StoreLocationRules,
): StoreLocationState {
  if (typeof path !== 'string' || path.length === 0 || path.includes('\0')) {
    throw new KeyledgerError(ErrorCode.INVALID_ARGUMENT, `${errors.adapter}.open: the path must be a non-empty string without NUL bytes`);
  }
  const create = readCreateOption(options);
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    if (codeOf(err) === 'ENOTDIR') throw errors.wrongLocation(path, 'under a parent that is not a directory', err);
    if (codeOf(err) !== 'ENOENT') throw errors.io(`cannot reach ${JSON.stringify(path)}`, err);
    if (!create) throw errors.notFound(path, 'nothing there');
    return createLocation(errors, path, rules);
  }
  return rules.shape === 'directory' ? inspectDirectory(errors, path, st, create, rules) : inspectFile(errors, path, st, create);
}

function createLocation(errors: AdapterErrors, path: string, rules: StoreLocationRules): StoreLocationState {
  try {
    if (rules.shape === 'directory') {
      createPrivateDirectory(path);
      return 'new';
    }
    mkdirSync(dirname(path), { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
    if (createPrivateFile(path)) return 'new';
  } catch (err) {
    throw errors.io(`cannot create ${JSON.stringify(path)}`, err);
  }
  // Another process created the file between the stat and here: judge what it made.
  return inspectFile(errors, path, statSync(path), true);
}

function inspectDirectory(errors: AdapterErrors, path: string, st: Stats, create: boolean, rules: StoreLocationRules): StoreLocationState {
  if (!st.isDirectory()) throw errors.wrongLocation(path, `${describeFileKind(st)}, not a directory`);
  let entries: string[];
  try {
    entries = readdirSync(path);
  } catch (err) {
    throw errors.io(`cannot list ${JSON.stringify(path)}`, err);
  }
  if (entries.length === 0) {
    if (!create) throw errors.notFound(path, 'an empty directory');
    tighten(errors, path, PRIVATE_DIRECTORY_MODE);
    return 'new';
  }
  const marker = rules.marker;
  if (marker !== undefined && !isRegularFile(join(path, marker))) {
    // A backend creating its files among someone else's could also delete theirs (LevelDB removes
    // files whose names look like its own obsolete logs and tables).
    throw errors.wrongLocation(path, `a directory of other files without ${marker}, so not a database of this kind`);
  }
  return 'existing';
}

function inspectFile(errors: AdapterErrors, path: string, st: Stats, create: boolean): StoreLocationState {
  if (!st.isFile()) throw errors.wrongLocation(path, `${describeFileKind(st)}, not a regular file`);
  if (st.size > 0) return 'existing';
  if (!create) throw errors.notFound(path, 'an empty file');
  tighten(errors, path, PRIVATE_FILE_MODE);
  return 'new';
}

function isRegularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** An empty location the caller made becomes a store: it gets a store's mode before anything is written. */
function tighten(errors: AdapterErrors, path: string, mode: number): void {
  try {
    chmodSync(path, mode);
  } catch (err) {
    throw errors.io(`cannot restrict ${JSON.stringify(path)} to mode ${mode.toString(8)}`, err);
  }
}
