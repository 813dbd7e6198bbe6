export { Encryptor } from './encryptor.js';
export { decryptEnvelope } from './decrypt-envelope.js';
export type { EncryptorOptions } from './encryptor.js';
export { NonceFactory, NONCE_LENGTH } from './nonce-factory.js';
export {
  ENVELOPE_VERSION,
  ENVELOPE_HEADER_LENGTH,
  ENVELOPE_OVERHEAD,
  FLAG_COMPRESSED,
  TAG_LENGTH,
  encodeEnvelope,
  decodeEnvelope,
  storageAad,
  raftAad,
} from './envelope.js';
export type { Envelope } from './envelope.js';
