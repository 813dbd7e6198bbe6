import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { reasonCode } from '@keyledger/core';
import { CliError, ExitCode } from './cli-error.js';
import { conformanceCommand } from './commands/conformance.js';
import { demoCommand } from './commands/demo.js';
import { decryptCommand, encryptCommand } from './commands/encrypt.js';
import { inspectCommand } from './commands/inspect.js';
import { keygenCommand } from './commands/keygen.js';
import { nodeCommand } from './commands/node.js';
import { replayCommand } from './commands/replay.js';
import { exportSidecarCommand, importSidecarCommand } from './commands/sidecar.js';
import { endQuietlyOnClosedOutput, formatError, jsonLine, reasonOf, stderr } from './output.js';

endQuietlyOnClosedOutput();

// dist/bin.js → ../package.json, in the workspace and in the published package alike.
const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** Under `--json`, errors are one JSON document on stderr too, so a script parses both streams. */
const jsonMode = process.argv.slice(2).includes('--json');

const program = new Command('keyledger')
  .description('Apply, inspect and check keyledger encryption logs: unique AES-256-GCM nonces across Raft replicas.')
  .version(version)
  .showHelpAfterError('(add --help for usage)')
  .addHelpText(
    'after',
    `
Stores: --store sqlite:PATH (default sqlite:keyledger.db), lmdb:DIR or level:DIR (lmdb and level
need @keyledger/lmdb or @keyledger/level installed next to the CLI).
Exit codes: 0 success, 1 usage or I/O error, 2 a halted entry or a failed conformance case,
130 interrupted (Ctrl-C).

Example:
  $ keyledger demo`,
  );

for (const command of [
  demoCommand(),
  replayCommand(),
  inspectCommand(),
  conformanceCommand(),
  keygenCommand(),
  exportSidecarCommand(),
  importSidecarCommand(),
  encryptCommand(),
  decryptCommand(),
  nodeCommand(),
]) {
  program.addCommand(command.showHelpAfterError('(add --help for usage)'));
}

// Usage errors come back as exceptions, so that under --json they are reported as JSON too.
for (const cmd of [program, ...program.commands]) {
  cmd.exitOverride();
  if (jsonMode) cmd.configureOutput({ outputError: () => undefined, writeErr: () => undefined });
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version end here too, with exit code 0.
    process.exitCode = err.exitCode;
    if (jsonMode && err.exitCode !== 0) {
      stderr.line(
        jsonLine({ error: { code: 'usage', message: err.message.replace(/^error: /, ''), causes: [] }, exit_code: err.exitCode }),
      );
    }
  } else {
    process.exitCode = err instanceof CliError ? err.exitCode : ExitCode.ERROR;
    const [first, ...causes] = formatError(err);
    if (jsonMode) {
      const code = reasonCode(err) ?? null;
      // The code has a field of its own: the message is the reason's, without the "CODE: " prefix.
      const message = code === null ? first : reasonOf(err).message;
      const error = { code, message, causes: causes.map((c) => c.replace(/^\s*caused by: /, '')) };
      stderr.line(jsonLine({ error, exit_code: process.exitCode }));
    } else {
      stderr.line(stderr.c.red(`error: ${first}`));
      for (const line of causes) stderr.line(stderr.c.red(line));
    }
  }
}
