// fs-native-extensions ships no type declarations; this is the one function the adapter calls.
declare module 'fs-native-extensions' {
  /**
   * Requests a lock on the open file `fd` without waiting: `true` when granted, `false` when
   * another open file description holds a conflicting one. On Linux an open-file-description lock
   * (fcntl F_OFD_SETLK), elsewhere flock(2): either way the kernel drops it when the descriptor
   * is closed or the process dies.
   */
  export function tryLock(fd: number, offset?: number, length?: number, options?: { shared?: boolean }): boolean;
}
