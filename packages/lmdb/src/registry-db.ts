import { endianness } from 'node:os';
import type { AdapterErrors } from '@keyledger/core';
import type { LmdbRootDatabase } from './lmdb-registry-store.js';

/** The name of the sub-database that holds keyledger's rows, apart from the user's own data. */
export const LMDB_REGISTRY_DB_NAME = 'keyledger-registry';

/** The slice of an lmdb named database this adapter calls. */
export interface LmdbDatabase {
  get(key: Uint8Array): Uint8Array | undefined;
  getBinary(key: Uint8Array): Uint8Array | undefined;
  put(key: Uint8Array, value: Uint8Array): unknown;
  /**
   * Runs `action` in a write transaction on the calling thread and commits it before returning.
   * Unless the environment was opened with `noSync` (refused by the constructor), the commit
   * includes the data sync and the synced meta page, overlappingSync or not.
   */
  transactionSync<T>(action: () => T): T;
  getRange(options: { start?: Uint8Array; end?: Uint8Array }): Iterable<{ key: Uint8Array; value: Uint8Array }>;
}

/**
 * LMDB's persistent sub-database flags (lmdb.h, `mdb_dbi_open`), by the lmdb-js option that sets
 * each. keyledger creates its sub-database with none: a stored `dupSort` keeps every epoch of a
 * slot and `get` answers the smallest; `reverseKey` orders keys from their last byte, so prefix
 * scans miss rows; `integerKey` refuses keyledger's keys.
 */
const DB_FLAGS: readonly [flag: number, option: string][] = [
  [0x02, 'reverseKey'],
  [0x04, 'dupSort'],
  [0x08, 'integerKey'],
  [0x10, 'dupFixed'],
  [0x20, 'integerDup'],
  [0x40, 'reverseDup'],
  [0x100, 'useVersions'],
];

/**
 * The key of a named sub-database in LMDB's main database: its name with the terminating NUL
 * (`mdb_dbi_open` stores `strlen(name) + 1` bytes). Its value is the sub-database's `MDB_db`
 * record, whose `md_flags` (a host-endian u16 at offset 4, after the u32 `md_pad`) are the flags
 * it was created with; `mdb_dbi_flags` returns the same field. lmdb-js does not expose that call.
 */
const RECORD_KEY = Buffer.from(`${LMDB_REGISTRY_DB_NAME}\0`);
const MD_FLAGS_OFFSET = 4;

/** The flags the existing sub-database was created with, read from its record in the main database. */
function storedFlags(root: LmdbRootDatabase): number {
  // A null name opens the main database (lmdb-js's rule; its typings only admit strings).
  const main = root.openDB({ name: null as unknown as string, keyEncoding: 'binary', encoding: 'binary', compression: false });
  const record = main?.getBinary(RECORD_KEY);
  if (record === undefined || record.length < MD_FLAGS_OFFSET + 2) return 0;
  return new DataView(record.buffer, record.byteOffset, record.byteLength).getUint16(MD_FLAGS_OFFSET, endianness() === 'LE');
}

/**
 * False only when the environment certainly holds no keyledger sub-database: what
 * `open(path, { create: false })` refuses as not found. One that lmdb cannot open is left to
 * {@link openRegistryDb} to refuse.
 */
export function hasRegistryDb(root: LmdbRootDatabase): boolean {
  try {
    return root.openDB({ name: LMDB_REGISTRY_DB_NAME, keyEncoding: 'binary', encoding: 'binary', create: false }) !== undefined;
  } catch {
    return true;
  }
}

const REMEDY = `if its rows are not needed, drop it (root.openDB('${LMDB_REGISTRY_DB_NAME}', { dupSort: … }).drop()); otherwise give keyledger an environment of its own`;

/**
 * Opens (creating if missing) keyledger's sub-database of `root` with binary keys and values, and
 * refuses with `ERR_UNSUPPORTED_STORE` one that keyledger did not make: created with flags that
 * change what `put`, `get` or a range scan mean, or a plain key of that name in the main database.
 */
export function openRegistryDb(root: LmdbRootDatabase, errors: AdapterErrors): LmdbDatabase {
  let db: LmdbDatabase | undefined;
  try {
    // compression: false, or the sub-database would inherit a root's compression and store values
    // that an environment opened without it (keyledger's own open(), the CLI) reads back compressed.
    db = root.openDB({ name: LMDB_REGISTRY_DB_NAME, keyEncoding: 'binary', encoding: 'binary', compression: false });
  } catch (err) {
    // MDB_DBS_FULL: the root was opened with too small a maxDbs for one more sub-database.
    // MDB_INCOMPATIBLE: the main database holds a plain key of that name, or is itself dupSort.
    throw errors.unsupported(`cannot open the sub-database ${LMDB_REGISTRY_DB_NAME}: ${(err as Error).message}`, err);
  }
  if (db === undefined) throw errors.unsupported(`the sub-database ${LMDB_REGISTRY_DB_NAME} cannot be opened`);
  const flags = storedFlags(root);
  if (flags !== 0) {
    const names = DB_FLAGS.filter(([f]) => (flags & f) !== 0).map(([, name]) => name);
    throw errors.foreign(
      `the sub-database ${LMDB_REGISTRY_DB_NAME} was created with ${names.join(', ') || 'unknown flags'} (flags 0x${flags.toString(16)})`,
      REMEDY,
    );
  }
  return db;
}
