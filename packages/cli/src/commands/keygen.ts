import { resolve } from 'node:path';
import { Command } from 'commander';
import { FileKek } from '@keyledger/core';
import { ExitCode } from '../cli-error.js';
import { stdout } from '../output.js';

/** Creates a KEK file: 32 random bytes, mode 0600, written durably; never overwrites one. */
export async function runKeygen(path: string): Promise<number> {
  const target = resolve(path);
  const kek = await FileKek.generate(target);
  kek.close();
  stdout.line(`wrote a new KEK to ${target} (32 random bytes, mode 0600)`);
  stdout.line('keep it secret and back it up: every DEK wrapped with it is unrecoverable without it');
  return ExitCode.OK;
}

export function keygenCommand(): Command {
  return new Command('keygen')
    .description('generate a KEK file (32 random bytes, mode 0600); refuses to overwrite an existing file')
    .argument('<path>', 'where to write the KEK')
    .addHelpText(
      'after',
      `
Exit codes: 0 written, 1 the file exists or cannot be written.

Example:
  $ keyledger keygen /etc/keyledger/kek.bin`,
    )
    .action(async (path: string) => {
      process.exitCode = await runKeygen(path);
    });
}
