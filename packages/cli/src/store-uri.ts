import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { RegistryStore } from '@keyledger/core';
import { LevelRegistryStore } from '@keyledger/level';
import { LmdbRegistryStore } from '@keyledger/lmdb';
import { SqliteRegistryStore } from '@keyledger/sqlite';
import { CliError } from './cli-error.js';

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
   * Refuse a store that does not exist yet instead of creating an empty one: reading commands
   * (inspect, export-sidecar) would otherwise leave an empty database behind a typo.
   */
  mustExist?: boolean;
}

/** Opens the adapter the URI names, creating the file or directory (and its parent) if missing. */
export async function openStore(uri: StoreUri, options: OpenStoreOptions = {}): Promise<RegistryStore> {
  if (options.mustExist && !existsSync(uri.path)) {
    throw new CliError(`no store at ${formatStoreUri(uri)}: check --store (${STORE_URI_HELP})`);
  }
  mkdirSync(dirname(uri.path), { recursive: true });
  switch (uri.scheme) {
    case 'sqlite':
      return SqliteRegistryStore.open(uri.path);
    case 'lmdb':
      return LmdbRegistryStore.open(uri.path);
    case 'level':
      return LevelRegistryStore.open(uri.path);
  }
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
