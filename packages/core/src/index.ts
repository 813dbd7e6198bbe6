export { ErrorCode, KeyledgerError, hasCode, isHalt, isKeyledgerError, reasonCode } from './errors.js';
export type { Halt, KeyledgerErrorCode, KeyledgerErrorOptions } from './errors.js';

export { compareBytes, startsWith, bytesEqual, prefixUpperBound } from './bytes.js';

export { Opcode, WIRE_VERSION } from './codec/wire.js';
export {
  REGISTRY_PREFIX,
  REGISTRY_KEY_LENGTH,
  nodeId16,
  registryKey,
  encodeRegistryKey,
  decodeRegistryKey,
  isRegistryKey,
  registryDekPrefix,
} from './codec/registry-key.js';
export type { RegistryKey } from './codec/registry-key.js';
export { REGISTRY_ROW_LENGTH, encodeRegistryRow, decodeRegistryRow } from './codec/registry-row.js';
export type { RegistryRow } from './codec/registry-row.js';
export { encodeRegistration, decodeRegistration } from './codec/registration.js';
export type { Registration } from './codec/registration.js';
export { MAX_BOOTSTRAP_BATCH, encodeBootstrap, decodeBootstrap } from './codec/bootstrap.js';
export type { Bootstrap } from './codec/bootstrap.js';
export { RotationSubtag, Purpose, encodeRotation, decodeRotation } from './codec/rotation.js';
export type { Rotation } from './codec/rotation.js';
export { decodeEntry, encodeEntry, isEncryptionOpcode } from './codec/entry.js';
export { APPLIED_KEY, encodeAppliedIndex, decodeAppliedIndex } from './codec/applied-index.js';
export type { Entry } from './codec/entry.js';

export { MAX_KEY_LENGTH } from './store/registry-store.js';
export type { RegistryStore, StoreEntry } from './store/registry-store.js';
export { BaseRegistryStore } from './store/base-registry-store.js';
export { MemoryRegistryStore } from './store/memory-registry-store.js';
export { AdapterErrors } from './store/adapter/adapter-errors.js';
export type { HandleMemberKind, HandleRule } from './store/adapter/adapter-errors.js';
export { prepareStoreLocation, readCreateOption } from './store/adapter/store-location.js';
export type { StoreLocationRules, StoreLocationState, StoreOpenOptions } from './store/adapter/store-location.js';
export { PRIVATE_DIRECTORY_MODE, PRIVATE_FILE_MODE, createPrivateFile, restrictFilesIn } from './store/adapter/private-files.js';
export { OwnedResources } from './store/adapter/owned-resources.js';

export { Applier } from './applier/applier.js';
export type { ApplierOptions, IndexedEntry } from './applier/applier-options.js';
export type { AppliedEvent, ApplyResult, RegistrationApplied } from './applier/apply-result.js';
export type { RegistrationEffect } from './applier/registration-rule.js';
export type { BootstrapEffect } from './applier/apply-bootstrap.js';
export type { RotationEffect } from './applier/apply-rotation.js';

export * from './crypto/index.js';
export * from './state/index.js';
export * from './encryptor/index.js';
