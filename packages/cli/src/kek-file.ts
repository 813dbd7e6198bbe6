import { FileKek } from '@keyledger/core';
import { resolve } from 'node:path';

/** Opens `--kek FILE` when given. FileKek refuses a file that is not 32 bytes or is readable by others. */
export async function openKek(path: string | undefined): Promise<FileKek | undefined> {
  return path === undefined ? undefined : FileKek.open(resolve(path));
}
