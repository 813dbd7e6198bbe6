import { closeSync, openSync } from 'node:fs';
import type { AdapterErrors } from '@keyledger/core';
import { tryLock } from 'fs-native-extensions';

/**
 * An exclusive lock on an lmdb environment's data file, held for as long as one store applies to
 * it. LMDB lets any number of processes write one environment; two appliers would interleave
 * their read-modify-write cycles, so one could lower a slot's epoch that the other has already
 * acknowledged. See docs/design.md, section 'One applier per store'.
 *
 * The lock is the kernel's (an open-file-description lock on Linux, flock(2) elsewhere): closing
 * the descriptor releases it, and so does the death of the process, SIGKILL included, so no stale
 * lock is ever left behind. It is taken on `data.mdb`, never on `lock.mdb`, whose byte-range locks
 * LMDB itself manages; and it is per descriptor, so a second store in the same process is refused
 * like a second process.
 */
export class EnvironmentLock {
  readonly #fd: number;
  #held = true;

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /** Locks `dataFile`, or throws `ERR_STORE_IN_USE` (held elsewhere) / `ERR_STORE_IO` (cannot open it). */
  static acquire(dataFile: string, errors: AdapterErrors): EnvironmentLock {
    let fd: number;
    try {
      // Read-write: an exclusive lock is granted only on a descriptor open for writing.
      fd = openSync(dataFile, 'r+');
    } catch (err) {
      throw errors.io(`cannot open ${JSON.stringify(dataFile)} to lock it`, err);
    }
    let granted: boolean;
    try {
      granted = tryLock(fd);
    } catch (err) {
      closeSync(fd);
      throw errors.io(`cannot lock ${JSON.stringify(dataFile)}`, err);
    }
    if (!granted) {
      closeSync(fd);
      throw errors.inUse(dataFile);
    }
    return new EnvironmentLock(fd);
  }

  /** Releases the lock (closing its descriptor); later calls do nothing. */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    closeSync(this.#fd);
  }
}
