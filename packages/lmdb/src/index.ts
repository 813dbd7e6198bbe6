export { LmdbRegistryStore, LMDB_REGISTRY_DB_NAME } from './lmdb-registry-store.js';
export type { LmdbDatabase, LmdbRootDatabase, LmdbRegistryStoreOptions } from './lmdb-registry-store.js';
