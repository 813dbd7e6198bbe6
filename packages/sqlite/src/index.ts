export { SqliteRegistryStore } from './sqlite-registry-store.js';
export { SQLITE_REGISTRY_TABLE } from './registry-table.js';
export type { SqliteDatabase, SqliteStatement, SqliteRegistryStoreOptions } from './sqlite-registry-store.js';
