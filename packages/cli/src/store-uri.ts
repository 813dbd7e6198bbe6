import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { ErrorCode, KeyledgerError, type RegistryStore } from '@keyledger/core';
import { Option } from 'commander';
import { CliError } from './cli-error.js';
import { FILE_MODE, makePrivateDir } from './files.js';

/** The store every command uses when `--store` is not given: a SQLite file in the current directory. */
export const DEFAULT_STORE = 'sqlite:keyledger.db';

export const STORE_SCHEMES = ['sqlite', 'lmdb', 'level'] as const;
export type StoreScheme = (typeof STORE_SCHEMES)[number];

/** A parsed `--store` value: `sqlite:PATH` (a file), `lmdb:DIR` or `level:DIR` (directories). */
export interface StoreUri {
  scheme: StoreScheme;
  /** Absolute path of the SQLite file or of the LMDB / LevelDB directory. */
  path: string;
}

export const STORE_URI_HELP = 'sqlite:PATH (a file), lmdb:DIR or level:DIR';

/** The `--store <uri>` option of the commands that use one store; `role` says what the command does with it. */
export function storeOption(role: string): Option {
  return new Option('--store <uri>', `${role}: ${STORE_URI_HELP}`).default(DEFAULT_STORE);
}

/** Parses `sqlite:PATH | lmdb:DIR | level:DIR`; a relative path is taken from the current directory. */
export function parseStoreUri(text: string): StoreUri {
  const colon = text.indexOf(':');
  const scheme = colon > 0 ? text.slice(0, colon) : '';
  const path = colon > 0 ? text.slice(colon + 1) : '';
  if (!(STORE_SCHEMES as readonly string[]).includes(scheme) || path === '') {
    throw new CliError(`--store ${JSON.stringify(text)} is not a store URI: use ${STORE_URI_HELP}`);
  }
  return { scheme: scheme as StoreScheme, path: resolve(path) };
}

export function formatStoreUri(uri: StoreUri): string {
  return `${uri.scheme}:${uri.path}`;
}

export interface OpenStoreOptions {
  /**
   * Open only a store that exists (default `true`). Reading commands (inspect, export-sidecar)
   * pass `false`, so that a typo does not leave an empty database behind and an unrelated file
   * or directory is not turned into a store.
   */
  create?: boolean;
}

/** What the CLI needs of an adapter class: `open(path, { create })` (docs/design.md, section 'Opening by path'). */
interface AdapterClass {
  open(path: string, options?: { create?: boolean }): Promise<RegistryStore>;
}

/**
 * The adapter packages. SQLite is a dependency of the CLI (the demo's default store); LMDB and
 * LevelDB are optional peers, imported only when a `--store` URI names them, so that installing
 * the CLI builds neither.
 */
const ADAPTERS: Record<StoreScheme, { pkg: string; load: () => Promise<AdapterClass> }> = {
  sqlite: { pkg: '@keyledger/sqlite', load: async () => (await import('@keyledger/sqlite')).SqliteRegistryStore },
  lmdb: { pkg: '@keyledger/lmdb', load: async () => (await import('@keyledger/lmdb')).LmdbRegistryStore },
  level: { pkg: '@keyledger/level', load: async () => (await import('@keyledger/level')).LevelRegistryStore },
};

async function loadAdapter(scheme: StoreScheme): Promise<AdapterClass> {
  const { pkg, load } = ADAPTERS[scheme];
  try {
    return await load();
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new CliError(`--store ${scheme}: needs ${pkg}, which is not installed: install it next to the CLI (npm install -g ${pkg})`, {
        cause: err,
      });
    }
    throw new CliError(`--store ${scheme}: ${pkg} cannot be loaded`, { cause: err });
  }
}

function notFound(uri: StoreUri, why: string): KeyledgerError {
  return new KeyledgerError(
    ErrorCode.STORE_NOT_FOUND,
    `no keyledger store at ${formatStoreUri(uri)} (${why}): check --store (${STORE_URI_HELP})`,
  );
}

/** The SQLite file holds the adapter's table: opened read-only, so nothing in it changes. */
async function sqliteHasRegistry(path: string): Promise<boolean> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const header = Buffer.alloc(16);
    await fh.read(header, 0, 16, 0);
    if (header.toString('latin1') !== 'SQLite format 3\0') return false;
  } finally {
    await fh.close();
  }
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(path, { readonly: true, fileMustExist: true, timeout: 0 });
  try {
    return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'keyledger_registry'").get() !== undefined;
  } finally {
    db.close();
  }
}

/**
 * Refuses a path that holds no store before any adapter sees it. The adapters refuse it too with
 * `open(path, { create: false })`; this check, which only reads, keeps the CLI's promise with an
 * adapter that does not know the option yet.
 */
/** lmdb, like its adapter, reads a path with an extension (`store.lmdb`) as a one-file environment. */
function isFileShaped(uri: StoreUri): boolean {
  return uri.scheme === 'sqlite' || (uri.scheme === 'lmdb' && extname(uri.path) !== '');
}

async function checkStoreExists(uri: StoreUri): Promise<void> {
  const st = await stat(uri.path).catch(() => undefined);
  if (st === undefined) throw notFound(uri, 'nothing there');
  if (uri.scheme === 'sqlite') {
    if (!st.isFile()) throw notFound(uri, 'not a regular file');
    if (!(await sqliteHasRegistry(uri.path).catch(() => false))) throw notFound(uri, 'not a SQLite database with a keyledger table');
    return;
  }
  if (isFileShaped(uri)) {
    if (!st.isFile()) throw notFound(uri, 'not a regular file');
    return;
  }
  if (!st.isDirectory()) throw notFound(uri, 'not a directory');
  const marker = uri.scheme === 'lmdb' ? 'data.mdb' : 'CURRENT';
  if (!(await stat(join(uri.path, marker)).catch(() => undefined))?.isFile()) {
    throw notFound(uri, `no ${marker}: not ${uri.scheme === 'lmdb' ? 'an LMDB environment' : 'a LevelDB database'}`);
  }
}

/** A device, FIFO or file where a directory belongs (or the reverse) never reaches a native library. */
async function refuseWrongKind(uri: StoreUri): Promise<void> {
  const st = await stat(uri.path).catch(() => undefined);
  if (st === undefined) return;
  const fileShaped = isFileShaped(uri);
  if (fileShaped ? !st.isFile() : !st.isDirectory()) {
    throw new KeyledgerError(
      ErrorCode.UNSUPPORTED_STORE,
      `${formatStoreUri(uri)} is not ${fileShaped ? 'a regular file' : 'a directory'}: give a ${fileShaped ? 'database file' : 'directory'} path`,
    );
  }
}

/** Opens the adapter the URI names; with `create` (the default), makes a missing store (parents 0700). */
export async function openStore(uri: StoreUri, options: OpenStoreOptions = {}): Promise<RegistryStore> {
  const create = options.create ?? true;
  const adapter = await loadAdapter(uri.scheme);
  if (create) {
    await refuseWrongKind(uri);
    await makePrivateDir(isFileShaped(uri) ? dirname(uri.path) : uri.path);
    // SQLite gives its -wal and -shm files the database file's mode: an empty 0600 file first
    // makes all three owner-only (an empty file is a valid, empty database).
    if (uri.scheme === 'sqlite') await (await open(uri.path, constants.O_WRONLY | constants.O_CREAT, FILE_MODE)).close();
  } else {
    await checkStoreExists(uri);
  }
  return adapter.open(uri.path, { create });
}

/**
 * Runs `body` with the store open and closes it afterwards, whatever happened. When `body` fails
 * its error is the one reported; a failing close then would only hide it.
 */
export async function withStore<T>(uri: StoreUri, options: OpenStoreOptions, body: (store: RegistryStore) => Promise<T>): Promise<T> {
  const store = await openStore(uri, options);
  let result: T;
  try {
    result = await body(store);
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  await store.close();
  return result;
}
