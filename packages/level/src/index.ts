export { LevelRegistryStore, LEVEL_REGISTRY_SUBLEVEL } from './level-registry-store.js';
export type { LevelDatabase, LevelRegistryStoreOptions } from './level-registry-store.js';
