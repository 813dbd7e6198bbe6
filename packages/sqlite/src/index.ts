export { SqliteRegistryStore, SQLITE_REGISTRY_TABLE } from './sqlite-registry-store.js';
export type { SqliteDatabase, SqliteRegistryStoreOptions } from './sqlite-registry-store.js';
