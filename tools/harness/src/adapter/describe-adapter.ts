import { fileURLToPath } from 'node:url';
import type { AdapterStore } from './codes.js';
import { describeOneApplier } from './describe-one-applier.js';
import { describeOpenByPath } from './describe-open-by-path.js';
import { describeHandleRefusals } from './foreign-handles.js';
import { tempDirs } from './preamble.js';

/**
 * The slice of core's conformance options an adapter's suite passes (core's `ConformanceOptions`;
 * the harness cannot import core, which bundles it).
 */
export interface AdapterConformanceOptions<S extends AdapterStore> {
  name: string;
  open(dir: string): Promise<S>;
  module: string;
  breakBackend(store: S): Promise<void>;
  failNextWrite?(store: S): void;
}

/** What an adapter's test file says about its adapter; {@link describeAdapter} does the rest. */
export interface AdapterSuite<H, S extends AdapterStore> {
  /** The adapter's class name, for suite and case titles. */
  name: string;
  /** The library the adapter drives: its own handle is not a foreign one, and it names the temporary directories. */
  own: 'lmdb' | 'level' | 'sqlite';
  /** What the store is at its path: a directory of files (lmdb, level) or one file (sqlite). */
  shape: 'directory' | 'file';
  /** The test file's `import.meta.url`: its fixture module is `fixtures/open-store.mjs` beside it. */
  testFile: string;
  /** `describeRegistryStore` from `@keyledger/core/conformance`. */
  conformance(options: AdapterConformanceOptions<S>): void;
  /**
   * Opens the library's handle over the store in `dir`, in the layout of the fixture module's
   * `openStore(dir)`, so that the suite's crash children and this process share the directory.
   */
  openHandle(dir: string): Promise<H> | H;
  /** The adapter's constructor, given anything at all by the refusal cases. */
  construct(handle: unknown, options?: { closeHandle?: boolean }): S;
  /** Closes the library's handle behind the store's back: every later call must fail with ERR_STORE_IO. */
  closeHandle(handle: H): Promise<unknown> | unknown;
  /** Makes the next persist through `handle` fail inside the library, where the library can be made to. */
  failNextWrite?(handle: H): void;
  /** The adapter's static `open(path, options)`. */
  open(path: string, options?: { create?: boolean }): Promise<AdapterStore>;
}

/**
 * The part every adapter's test file shares, in order: the conformance suite over the adapter's
 * constructor, then the shared cases (handle refusals, `open(path)`, one applier per store).
 * Returns the file's maker of temporary directories for its own cases, which come after.
 */
export function describeAdapter<H, S extends AdapterStore>(a: AdapterSuite<H, S>): { freshDir: () => string } {
  const freshDir = tempDirs(a.own);
  const fixture = fileURLToPath(new URL('./fixtures/open-store.mjs', a.testFile));
  const handles = new WeakMap<S, H>();
  const handleOf = (store: S): H => {
    const handle = handles.get(store);
    // Only the suite calls these, with stores it opened through `open` below.
    if (handle === undefined) throw new Error(`${a.name}: not a store this suite opened`);
    return handle;
  };
  const { failNextWrite } = a;
  a.conformance({
    name: a.name,
    open: async (dir) => {
      const handle = await a.openHandle(dir);
      const store = a.construct(handle, { closeHandle: true });
      handles.set(store, handle);
      return store;
    },
    module: fixture,
    breakBackend: async (store) => {
      await a.closeHandle(handleOf(store));
    },
    ...(failNextWrite === undefined ? {} : { failNextWrite: (store: S) => failNextWrite(handleOf(store)) }),
  });
  const shared = { name: a.name, shape: a.shape, fixture, open: a.open, freshDir };
  describeHandleRefusals({ name: a.name, own: a.own, construct: a.construct, freshDir });
  describeOpenByPath(shared);
  describeOneApplier(shared);
  return { freshDir };
}
