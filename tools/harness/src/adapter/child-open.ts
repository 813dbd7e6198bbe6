import { type ChildHandle, type ChildRun, moduleUrl, runChild } from '../run-child.js';
import type { AdapterStore } from './codes.js';

/**
 * The path of an adapter's test fixture module (`test/fixtures/open-store.mjs`, loading the built
 * package as a user would), which exports {@link FixtureExports}.
 */
export type FixtureModule = string;

/**
 * What a fixture module exports: `openPath(path, options)` is the adapter's `open(path, options)`;
 * the rest is `@keyledger/core`'s, which the harness cannot import itself (core bundles the harness).
 */
export interface FixtureExports {
  openPath(path: string, options?: { create?: boolean }): Promise<AdapterStore>;
  Applier: { open(store: AdapterStore): Promise<{ applyEntry(entry: Uint8Array): Promise<unknown>; close(): Promise<void> }> };
  encodeRegistration(registration: { dekId: number; fullNodeId: bigint; localEpoch: number }): Uint8Array;
  registryKey(dekId: number, fullNodeId: bigint): Uint8Array;
  decodeRegistryRow(value: Uint8Array): { lastSeenEpoch: number };
  hasCode(err: unknown, code: string): boolean;
}

/** Loads a fixture module in this process. */
export async function importFixture(fixture: FixtureModule): Promise<FixtureExports> {
  return (await import(moduleUrl(fixture))) as FixtureExports;
}

/** What one open attempt in a child ended with. */
export type OpenOutcome = { opened: true } | { refused: string };

/**
 * Opens `path` in a fresh Node process, under `umask` when given, writes one row when it opened,
 * and reports how it went. Run in a child so that a native crash (lmdb on a device path:
 * SIGSEGV, SIGABRT) or a hang (a FIFO) fails the case instead of killing the test runner.
 */
const OPEN_ATTEMPT = `
const [url, path, options, umask] = process.argv.slice(1);
if (umask !== '-') process.umask(parseInt(umask, 8));
const fixture = await import(url);
let store;
try {
  store = await fixture.openPath(path, JSON.parse(options));
} catch (err) {
  console.log(JSON.stringify({ refused: err?.code ?? String(err) }));
  process.exit(0);
}
await store.write([{ key: new Uint8Array([1]), value: new Uint8Array([2]) }]);
console.log(JSON.stringify({ opened: true }));
if (process.env.KEYLEDGER_HOLD === '1') {
  console.log('holding');
  setInterval(() => {}, 1000);
} else {
  await store.close();
}
`;

function outcomeOf(run: ChildRun, what: string): OpenOutcome {
  const last = run.lines.find((l) => l.startsWith('{'));
  if (run.exitCode !== 0 || last === undefined) {
    throw new Error(
      `${what}: the child ended with exit code ${run.exitCode}${run.killed ? ' (killed: it hung)' : ''}: ${run.stderr.trim().slice(0, 1500)}`,
    );
  }
  return JSON.parse(last) as OpenOutcome;
}

/** Opens `path` with `options` in a child process and returns how that went; a crash or a hang throws. */
export async function openInChild(fixture: FixtureModule, path: string, options: object = {}, umask?: number): Promise<OpenOutcome> {
  const run = await runChild(
    OPEN_ATTEMPT,
    [moduleUrl(fixture), path, JSON.stringify(options), umask === undefined ? '-' : umask.toString(8)],
    () => false,
    30_000,
  ).done;
  return outcomeOf(run, `opening ${path}`);
}

/**
 * Opens the store at `path` in a child that then holds it (open, one row written) until killed;
 * resolves once it holds it. `onHolding` runs synchronously while the child holds the store and
 * is blocked on nothing: what it observes is what another process sees.
 */
export function holdInChild(
  fixture: FixtureModule,
  path: string,
  options: object = {},
  umask?: number,
): { held: Promise<void>; child: ChildHandle } {
  let holding: () => void = () => undefined;
  const held = new Promise<void>((resolve) => {
    holding = resolve;
  });
  const child = runChild(
    OPEN_ATTEMPT,
    [moduleUrl(fixture), path, JSON.stringify(options), umask === undefined ? '-' : umask.toString(8)],
    (line) => {
      if (line === 'holding') holding();
      return false;
    },
    60_000,
    { env: { ...process.env, KEYLEDGER_HOLD: '1' } },
  );
  const failed = child.done.then((run) => {
    throw new Error(
      `the holder of ${path} ended before holding it (exit ${run.exitCode}): ${run.lines.join(' ')} ${run.stderr.trim().slice(0, 1500)}`,
    );
  });
  return { held: Promise.race([held, failed]), child };
}

/**
 * Replays registrations of one slot, epochs 1..`epochs`, through an Applier on the store at
 * `path`, printing `applying` after the first and `done <last epoch>` at the end: the process A
 * of the scenario where another process B must not apply to the same store meanwhile.
 */
const REPLAYER = `
const [url, path, epochs] = process.argv.slice(1);
const { openPath, Applier, encodeRegistration } = await import(url);
const store = await openPath(path, {});
const applier = await Applier.open(store);
for (let e = 1; e <= Number(epochs); e++) {
  await applier.applyEntry(encodeRegistration({ dekId: 1, fullNodeId: 0xbeefn, localEpoch: e }));
  if (e === 1) console.log('applying');
}
await applier.close();
await store.close();
console.log('done ' + epochs);
`;

/** Starts process A of the two-appliers scenario; `onApplying` runs while A is mid-replay. */
export function replayInChild(fixture: FixtureModule, path: string, epochs: number, onApplying: () => void): Promise<ChildRun> {
  return runChild(
    REPLAYER,
    [moduleUrl(fixture), path, String(epochs)],
    (line) => {
      if (line === 'applying') onApplying();
      return false;
    },
    120_000,
  ).done;
}
