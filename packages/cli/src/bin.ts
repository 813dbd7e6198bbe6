import { createRequire } from 'node:module';
import { Command } from 'commander';
import { CliError, ExitCode } from './cli-error.js';
import { conformanceCommand } from './commands/conformance.js';
import { demoCommand } from './commands/demo.js';
import { decryptCommand, encryptCommand } from './commands/encrypt.js';
import { inspectCommand } from './commands/inspect.js';
import { keygenCommand } from './commands/keygen.js';
import { nodeCommand } from './commands/node.js';
import { replayCommand } from './commands/replay.js';
import { exportSidecarCommand, importSidecarCommand } from './commands/sidecar.js';
import { formatError, stderr } from './output.js';

// dist/bin.js → ../package.json, in the workspace and in the published package alike.
const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

const program = new Command('keyledger')
  .description('Apply, inspect and check keyledger encryption logs: unique AES-256-GCM nonces across Raft replicas.')
  .version(version)
  .showHelpAfterError('(add --help for usage)')
  .addHelpText(
    'after',
    `
Stores: --store sqlite:PATH (default sqlite:keyledger.db), lmdb:DIR or level:DIR.
Exit codes: 0 success, 1 usage or I/O error, 2 a halted entry or a failed conformance case.

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

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const [first, ...causes] = formatError(err);
  stderr.line(stderr.c.red(`error: ${first}`));
  for (const line of causes) stderr.line(stderr.c.red(line));
  process.exitCode = err instanceof CliError ? err.exitCode : ExitCode.ERROR;
}
