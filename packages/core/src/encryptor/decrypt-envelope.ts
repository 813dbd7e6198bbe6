import type { Applier } from '../applier/applier.js';
import { applierBridge, dekKey } from '../applier/encryptor-bridge.js';
import { invalidArgument } from '../errors.js';
import type { KeyPurpose } from '../state/encryption-state.js';
import { checkContext, openEnvelope } from './seal-envelope.js';

/**
 * Opens an envelope with the DEKs `applier` holds, without an Encryptor: decryption needs no
 * registry and no epoch, so a reader bumps nothing (docs/design.md, section 'Envelope layout').
 * Rejects with the envelope codes, ERR_UNKNOWN_KEY_ID or ERR_INTEGRITY.
 */
export async function decryptEnvelope(
  applier: Applier,
  sealed: Uint8Array,
  options: { purpose?: KeyPurpose; context?: Uint8Array } = {},
): Promise<Uint8Array> {
  const bridge = applierBridge(applier);
  const purpose = options.purpose ?? 'storage';
  const context = options.context ?? new Uint8Array(0);
  if (purpose !== 'storage' && purpose !== 'raft') throw invalidArgument('purpose must be "storage" or "raft"');
  checkContext(purpose, context);
  return openEnvelope(sealed, purpose, context, (id) => dekKey(bridge, id));
}
