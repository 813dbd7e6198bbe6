export { SqliteRegistryStore, SQLITE_REGISTRY_TABLE } from './sqlite-registry-store.js';
export type { SqliteDatabase, SqliteStatement, SqliteRegistryStoreOptions } from './sqlite-registry-store.js';
