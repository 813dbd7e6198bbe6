import { resolve } from 'node:path';
import { Command } from 'commander';
import { exportSidecar, readSidecar } from '@keyledger/core';
import { CliError, ExitCode } from '../cli-error.js';
import { readRegularFile, writeFileAtomically } from '../files.js';
import { openKek } from '../kek-file.js';
import { stdout } from '../output.js';
import { readStoreSidecar, stateSummary, writeStoreSidecar } from '../sidecar-store.js';
import { formatStoreUri, parseStoreUri, storeOption, storeReadingCommand, withStore } from '../store-uri.js';

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

/**
 * Prints (or writes with `--out`) the store's state as elastickv's `keys.json` sidecar, with the
 * writer registry under `keyledger_registry` (elastickv ignores the field): a restore needs both
 * (docs/design.md, 'State record').
 */
export async function runExportSidecar(options: ExportOptions): Promise<number> {
  const uri = parseStoreUri(options.store);
  const name = formatStoreUri(uri);
  const sidecar = await withStore(uri, { create: false }, (store) => readStoreSidecar(store, name));
  if (sidecar === undefined) throw new CliError(`${name} holds no encryption state (no bootstrap applied): nothing to export`);
  const text = exportSidecar(sidecar.state, sidecar.registry);
  if (options.out === undefined) {
    process.stdout.write(text);
  } else {
    const out = resolve(options.out);
    await writeFileAtomically(out, text, { overwrite: options.force === true });
    stdout.line(`wrote ${out}: ${stateSummary(sidecar.state)}, ${sidecar.registry.writers.length} writer rows`);
  }
  return ExitCode.OK;
}

/** The advice for a sidecar without rows: what restores a replica instead. */
const WITHOUT_ROWS = `it carries no writer registry (keys.json written by elastickv or by an older keyledger).
  A store restored from it would hold an applied index without the registrations below it, and would
  accept a rolled-back epoch or a colliding slot; replaying the log on top of it does not rebuild them
  (entries up to that index are skipped). Restore instead:
  - replay the log from its start into an empty store (it rebuilds state and registry):
      keyledger replay LOG --kek KEK --store URI
  - or export a new sidecar from a healthy replica with this version (keyledger export-sidecar).`;

/**
 * Writes a sidecar into the store: state, writer rows and applied index in one atomic write.
 * With `--kek`, every wrapped DEK must unwrap first. A sidecar without rows is refused.
 */
export async function runImportSidecar(file: string, options: ImportOptions): Promise<number> {
  const uri = parseStoreUri(options.store);
  const path = resolve(file);
  const { state, registry } = readSidecar(await readRegularFile(path, 'sidecar'));
  if (registry === undefined) throw new CliError(`${path} cannot restore a replica: ${WITHOUT_ROWS}`);
  const kek = await openKek(options.kek);
  if (kek) {
    try {
      for (const [, key] of state.keys) (await kek.unwrap(key.wrapped)).fill(0);
    } finally {
      kek.close();
    }
  }
  const name = formatStoreUri(uri);
  const outcome = await withStore(uri, {}, (store) => writeStoreSidecar(store, name, { state, registry }, options.force === true));
  if (outcome === 'unchanged') {
    stdout.line(`${name} already holds this state and registry; nothing written`);
    return ExitCode.OK;
  }
  stdout.line(
    `imported into ${name}: ${stateSummary(state)}, ${registry.writers.length} writer rows, complete up to raft index ${registry.appliedIndex}${kek ? ' (every DEK unwraps with the KEK)' : ''}`,
  );
  stdout.line(`To catch up, replay the log: entries up to raft index ${registry.appliedIndex} are skipped, the rest applied.`);
  stdout.line(`  keyledger replay LOG --kek ${options.kek === undefined ? 'KEK' : resolve(options.kek)} --store ${name}`);
  return ExitCode.OK;
}

export function exportSidecarCommand(): Command {
  return storeReadingCommand(
    'export-sidecar',
    "write the store's encryption state and writer registry as a keys.json sidecar (wrapped DEKs only)",
  )
    .option('--out <file>', 'write to this file (mode 0600, atomically: temporary file, fsync, rename) instead of stdout')
    .option('--force', 'replace --out if it exists (a symlink is never followed)')
    .addHelpText(
      'after',
      `
The registry rows go under "keyledger_registry", a field elastickv's reader ignores.
Exit codes: 0 exported, 1 no such store, no state, a damaged registry row, or the file cannot be
written (an existing --out is then unchanged).

Example:
  $ keyledger export-sidecar --store sqlite:./keyledger.db --out keys.json`,
    )
    .action(async (options: ExportOptions) => {
      process.exitCode = await runExportSidecar(options);
    });
}

export function importSidecarCommand(): Command {
  return new Command('import-sidecar')
    .description('restore a store from a keys.json sidecar written by export-sidecar: state and writer registry, one atomic write')
    .argument('<file>', 'the keys.json sidecar')
    .addOption(storeOption('store to write'))
    .option('--kek <file>', 'check that every wrapped DEK unwraps with this KEK before importing')
    .option('--force', 'replace a different state the store already holds')
    .addHelpText(
      'after',
      `
The store must not be in use by a running applier. A sidecar without "keyledger_registry" (one
written by elastickv) is refused: it cannot restore a replica; replay the log from its start
into an empty store instead. After an import, replay the log: entries up to the sidecar's
applied index are skipped.
Exit codes: 0 imported (or already identical), 1 bad sidecar or one without rows, KEK mismatch,
a different state already in the store without --force, or an I/O error.

Example:
  $ keyledger import-sidecar keys.json --store lmdb:./replica-c --kek kek.bin`,
    )
    .action(async (file: string, options: ImportOptions) => {
      process.exitCode = await runImportSidecar(file, options);
    });
}
