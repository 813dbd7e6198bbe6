// One temporary root per run; removed on normal exit, on an error, and on SIGINT/SIGTERM.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let root;
let seq = 0;

function cleanup() {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
  root = undefined;
}

/** The run's temporary root, created on first use under $KEYLEDGER_BENCH_DIR or the OS temp dir. */
export function tempRoot() {
  if (root === undefined) {
    root = mkdtempSync(join(process.env.KEYLEDGER_BENCH_DIR ?? tmpdir(), 'keyledger-bench-'));
    process.on('exit', cleanup);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
      process.once(sig, () => {
        cleanup();
        process.kill(process.pid, sig);
      });
    }
  }
  return root;
}

/** A fresh directory under the run's root. */
export function freshDir(name) {
  const dir = join(tempRoot(), `${String(++seq).padStart(2, '0')}-${name}`);
  mkdirSync(dir);
  return dir;
}

/** Removes a directory made by freshDir as soon as its scenario is done (the 1M-row stores are big). */
export function dropDir(dir) {
  rmSync(dir, { recursive: true, force: true });
}

export { cleanup as removeTempRoot };
