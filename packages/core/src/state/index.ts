export { STATE_KEY, decodeState, emptyState, encodeState, validateState } from './encryption-state.js';
export type { EncryptionState, KeyEntry, KeyPurpose } from './encryption-state.js';
export { exportSidecar, importSidecar } from './sidecar.js';
