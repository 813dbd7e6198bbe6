import { type FileHandle, open, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command } from 'commander';
import {
  REGISTRY_PREFIX,
  STATE_KEY,
  bytesEqual,
  decodeState,
  encodeState,
  exportSidecar,
  importSidecar,
  type EncryptionState,
  type RegistryStore,
} from '@keyledger/core';
import { CliError, ExitCode } from '../cli-error.js';
import { openKek } from '../kek-file.js';
import { stderr, stdout } from '../output.js';
import { DEFAULT_STORE, STORE_URI_HELP, formatStoreUri, parseStoreUri, withStore } from '../store-uri.js';

export interface ExportOptions {
  store: string;
  out?: string;
  force?: boolean;
}

export interface ImportOptions {
  store: string;
  kek?: string;
  force?: boolean;
}

function summary(s: EncryptionState): string {
  return `applied index ${s.raftAppliedIndex}, ${s.keys.size} keys, active storage DEK ${s.active.storage} and raft DEK ${s.active.raft}`;
}

/** Writes `text` with mode 0600 and fsyncs it: a sidecar is the backup of every wrapped DEK. */
async function writeDurably(path: string, text: string, overwrite: boolean): Promise<void> {
  let fh: FileHandle;
  try {
    fh = await open(path, overwrite ? 'w' : 'wx', 0o600);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'EEXIST') throw new CliError(`${path} already exists: pass --force to overwrite it`, { cause: err });
    throw new CliError(`cannot write ${path} (${code ?? 'error'})`, { cause: err });
  }
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Prints (or writes with `--out`) the store's state as elastickv's `keys.json` sidecar (docs/design.md, 'State record'). */
export async function runExportSidecar(options: ExportOptions): Promise<number> {
  const uri = parseStoreUri(options.store);
  const raw = await withStore(uri, { mustExist: true }, (store) => store.get(STATE_KEY));
  if (raw === undefined) throw new CliError(`${formatStoreUri(uri)} holds no encryption state (no bootstrap applied): nothing to export`);
  const state = decodeState(raw);
  const text = exportSidecar(state);
  if (options.out === undefined) {
    process.stdout.write(text);
  } else {
    const out = resolve(options.out);
    await writeDurably(out, text, options.force === true);
    stdout.line(`wrote ${out}: ${summary(state)}`);
  }
  return ExitCode.OK;
}

/**
 * Writes a `keys.json` sidecar into the store as its encryption state. With `--kek`, every
 * wrapped DEK must unwrap first. A store that already holds a different state is left alone
 * unless `--force`: replacing it can roll the applied index back or drop keys that data is
 * encrypted under. Registry rows are not touched.
 */
export async function runImportSidecar(file: string, options: ImportOptions): Promise<number> {
  const uri = parseStoreUri(options.store);
  let text: string;
  try {
    text = await readFile(resolve(file), 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file} (${(err as { code?: string }).code ?? 'error'})`, { cause: err });
  }
  const state = importSidecar(text);
  const kek = await openKek(options.kek);
  if (kek) {
    try {
      for (const [, key] of state.keys) (await kek.unwrap(key.wrapped)).fill(0);
    } finally {
      kek.close();
    }
  }
  const record = encodeState(state);
  const outcome = await withStore(uri, {}, async (store) => {
    const existing = await store.get(STATE_KEY);
    if (existing !== undefined) {
      let current: EncryptionState | undefined;
      try {
        current = decodeState(existing);
      } catch {
        current = undefined;
      }
      if (current !== undefined && bytesEqual(encodeState(current), record)) return 'unchanged';
      if (!options.force) {
        const what = current === undefined ? 'a damaged state' : `a different state (${summary(current)})`;
        throw new CliError(`${formatStoreUri(uri)} already holds ${what}: pass --force to replace it`);
      }
    }
    await store.write([{ key: STATE_KEY, value: record }]);
    return (await hasWriterRows(store)) ? 'written' : 'written-without-rows';
  });
  stdout.line(
    outcome === 'unchanged'
      ? `${formatStoreUri(uri)} already holds this state; nothing written`
      : `imported into ${formatStoreUri(uri)}: ${summary(state)}${kek ? ' (every DEK unwraps with the KEK)' : ''}`,
  );
  if (outcome === 'written-without-rows') {
    // keys.json carries no writer registry: until the rows are back, a rolled-back epoch or a
    // colliding slot would be accepted as a first registration.
    stderr.line(stderr.c.yellow('warning: the store has no writer registry rows, and keys.json does not carry them.'));
    stderr.line(stderr.c.yellow('  Replay the log from its start (or restore the registry) before this replica writes with these keys.'));
  }
  return ExitCode.OK;
}

async function hasWriterRows(store: RegistryStore): Promise<boolean> {
  for await (const _ of store.scan(REGISTRY_PREFIX)) return true;
  return false;
}

export function exportSidecarCommand(): Command {
  return new Command('export-sidecar')
    .description("write the store's encryption state as a keys.json sidecar (wrapped DEKs only) to stdout or --out")
    .option('--store <uri>', `store to read: ${STORE_URI_HELP}`, DEFAULT_STORE)
    .option('--out <file>', 'write to this file (mode 0600, fsynced) instead of stdout')
    .option('--force', 'overwrite --out if it exists')
    .addHelpText(
      'after',
      `
Exit codes: 0 exported, 1 no such store, no state, or the file cannot be written.

Example:
  $ keyledger export-sidecar --store sqlite:./keyledger.db --out keys.json`,
    )
    .action(async (options: ExportOptions) => {
      process.exitCode = await runExportSidecar(options);
    });
}

export function importSidecarCommand(): Command {
  return new Command('import-sidecar')
    .description('write a keys.json sidecar (version 1 or 2) into the store as its encryption state')
    .argument('<file>', 'the keys.json sidecar')
    .option('--store <uri>', `store to write: ${STORE_URI_HELP}`, DEFAULT_STORE)
    .option('--kek <file>', 'check that every wrapped DEK unwraps with this KEK before importing')
    .option('--force', 'replace a different state the store already holds')
    .addHelpText(
      'after',
      `
The store must not be in use by a running applier. Registry rows are not touched, and
keys.json does not carry them: a store restored from keys.json alone has an empty writer
registry, which would accept a rolled-back epoch or a colliding slot. A warning says so.
Exit codes: 0 imported (or already identical), 1 bad sidecar, KEK mismatch, a different state
already in the store without --force, or an I/O error.

Example:
  $ keyledger import-sidecar keys.json --store lmdb:./replica-c --kek kek.bin`,
    )
    .action(async (file: string, options: ImportOptions) => {
      process.exitCode = await runImportSidecar(file, options);
    });
}
