import { resolve } from 'node:path';
import { ErrorCode, KeyledgerError, type RegistryStore } from '@keyledger/core';
import { Command, Option } from 'commander';
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

/** The `--store <uri>` option of the commands that use one store; `role` says what the command does with it. */
export function storeOption(role: string): Option {
  return new Option('--store <uri>', `${role}: ${STORE_URI_HELP}`).default(DEFAULT_STORE);
}

/** A command that reads the store `--store` names and writes nothing to it (inspect, export-sidecar). */
export function storeReadingCommand(name: string, description: string): Command {
  return new Command(name).description(description).addOption(storeOption('store to read'));
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

/**
 * The adapter's refusal of the location itself, said in terms of `--store`: its `found` is what is
 * at the path. Any other error (a store in use, a foreign schema, an I/O failure) is the adapter's.
 */
function inTermsOfStoreUri(uri: StoreUri, err: unknown): unknown {
  const { code, found } = (err ?? {}) as { code?: unknown; found?: unknown };
  if (typeof found !== 'string') return err;
  const where = formatStoreUri(uri);
  if (code === ErrorCode.STORE_NOT_FOUND) {
    return new KeyledgerError(code, `no keyledger store at ${where} (${found}): check --store (${STORE_URI_HELP})`, { found });
  }
  if (code === ErrorCode.UNSUPPORTED_STORE) {
    return new KeyledgerError(code, `${where} cannot hold a keyledger store (${found}): check --store (${STORE_URI_HELP})`, { found });
  }
  return err;
}

/**
 * Opens the adapter the URI names; with `create` (the default), makes a missing store (parents
 * 0700). The adapter checks the path before its native library sees it and creates nothing when
 * it refuses (docs/design.md, section 'Opening by path').
 */
export async function openStore(uri: StoreUri, options: OpenStoreOptions = {}): Promise<RegistryStore> {
  const adapter = await loadAdapter(uri.scheme);
  try {
    return await adapter.open(uri.path, { create: options.create ?? true });
  } catch (err) {
    throw inTermsOfStoreUri(uri, err);
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
