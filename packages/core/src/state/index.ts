export { STATE_KEY, decodeState, emptyState, encodeState, validateState } from './encryption-state.js';
export type { EncryptionState, KeyEntry, KeyPurpose } from './encryption-state.js';
export { SIDECAR_REGISTRY_FIELD, exportSidecar, importSidecar, readSidecar, registryEntries, sidecarWriter } from './sidecar.js';
export type { SidecarContents, SidecarRegistry, SidecarWriter } from './sidecar.js';
