import type { RegistryStore } from '../index.js';

/**
 * What a backend author passes to the suite: how to open the store, and a manifest of what the
 * store can do. The suite never guesses a capability from the store object; a case whose
 * capability is missing is reported as skipped, with the reason.
 */
export interface ConformanceOptions {
  /** Shown in test names and reports. */
  name?: string;
  /** Opens a store over `dir`, which is fresh or holds what an earlier store in the same case wrote. */
  open(dir: string): Promise<RegistryStore> | RegistryStore;
  /** Where the cases' fresh directories are created; defaults to the OS temp directory. */
  tmpDir?: string;
  /**
   * What survives `close()`: `true` (the default) for a store that keeps its data in `dir`;
   * `false` for an in-memory store, which skips every case that reopens a directory.
   */
  durable?: boolean;
  /** The store implements `getMany` (default `true`: every `BaseRegistryStore` does). */
  getMany?: boolean;
  /**
   * Absolute path (or file URL) of an ES module exporting `openStore(dir)`, opened in child
   * processes: SIGKILLed for the crash cases, traced with strace for the durability cases.
   * Without it those cases are skipped.
   */
  module?: string;
  /** Kill rounds per crash case (default 4). */
  crashRounds?: number;
  /** Trace the module's writes with strace when it is on PATH (default `true`). */
  strace?: boolean;
  /**
   * Makes the backend fail underneath `store` (for instance closes the library's own handle
   * behind the store's back): every later call must reject with ERR_STORE_IO.
   */
  breakBackend?(store: RegistryStore): Promise<void> | void;
  /**
   * Makes the backend's next persist fail for real (a full disk, a read-only file, a directory
   * where the data file goes): that write must reject with ERR_STORE_IO and none of its puts may
   * become visible, in memory or on disk.
   */
  failNextWrite?(store: RegistryStore): Promise<void> | void;
}

/** The capabilities a case can require, each with the reason printed when it is missing. */
export type Capability = 'durable' | 'getMany' | 'module' | 'strace' | 'breakBackend' | 'failNextWrite';
