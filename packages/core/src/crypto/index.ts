export type { Kek, KekUnwrapper } from './kek.js';
export { wrapFreshDek } from './kek.js';
export { FileKek, WRAPPED_DEK_LENGTH } from './file-kek.js';
export { Keystore } from './keystore.js';
