import { spawn } from 'node:child_process';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Runs `script` (an ES module source) in a child Node process with the backend module's URL
 * and `args`, and hands each stdout line to `onLine`. `onLine` returns true to SIGKILL the child
 * right there: nothing in the child gets a chance to flush or close.
 */
export interface ChildRun {
  lines: string[];
  killed: boolean;
  exitCode: number | null;
  stderr: string;
}

/**
 * The script for a child whose first argument is a module's URL: it imports the module and awaits
 * its `main(args)` with the arguments after the URL (the campaigns' children are such modules).
 */
export const RUN_MAIN_SCRIPT = `const { main } = await import(process.argv[1]); await main(process.argv.slice(2));`;

export function moduleUrl(module: string): string {
  if (module.startsWith('file:')) return module;
  return pathToFileURL(isAbsolute(module) ? module : resolve(module)).href;
}

export interface ChildHandle {
  done: Promise<ChildRun>;
  /** SIGKILLs the child now; lines it printed after this are ignored. */
  kill(): void;
}

export interface RunChildOptions {
  /** The child's environment (default: this process's), for instance with LD_PRELOAD set. */
  env?: NodeJS.ProcessEnv;
  /**
   * Keep in `lines` what the child printed before it died but the parent read after `kill()`
   * (`onLine` is not called for them). A line already in the pipe is something the child did:
   * a campaign that counts acknowledgements must not drop it.
   */
  keepLinesAfterKill?: boolean;
}

export function runChild(
  script: string,
  args: string[],
  onLine: (line: string, lines: string[]) => boolean,
  timeoutMs = 60_000,
  options: RunChildOptions = {},
): ChildHandle {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.env === undefined ? {} : { env: options.env }),
  });
  const run: ChildRun = { lines: [], killed: false, exitCode: null, stderr: '' };
  const kill = (): void => {
    run.killed = true;
    child.kill('SIGKILL');
  };
  const done = new Promise<ChildRun>((resolvePromise, reject) => {
    let buffered = '';
    const timer = setTimeout(kill, timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (run.killed) {
          if (options.keepLinesAfterKill) run.lines.push(line);
          continue;
        }
        run.lines.push(line);
        if (onLine(line, run.lines)) kill();
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (run.stderr.length < 8192) run.stderr += chunk;
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      run.exitCode = code;
      resolvePromise(run);
    });
  });
  return { done, kill };
}
