/**
 * Exit codes of every `keyledger` command. Scripts depend on them: 2 always means "the command
 * ran and found a problem in the data" (a halted entry, a failed conformance case), 1 means it
 * could not do its job (bad arguments, a missing file, a store or KEK that cannot be opened).
 */
export const ExitCode = { OK: 0, ERROR: 1, PROBLEM: 2 } as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the CLI reports as one line (plus causes) and turns into an exit code. */
export class CliError extends Error {
  readonly exitCode: ExitCode;

  constructor(message: string, options: { exitCode?: ExitCode; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.exitCode = options.exitCode ?? ExitCode.ERROR;
  }
}
