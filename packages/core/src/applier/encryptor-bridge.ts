import { type KeyObject, createSecretKey } from 'node:crypto';
import { ErrorCode, KeyledgerError } from '../errors.js';
import type { EncryptionState } from '../state/encryption-state.js';

/**
 * What the Encryptor may do inside the applier's serialized write path: read the committed state
 * and store rows, and commit a new state record durably (docs/design.md, section 'Encryptor').
 * Nothing else runs on the store meanwhile, so a read-decide-write here cannot interleave with an
 * entry being applied.
 */
export interface WritePath {
  readonly state: EncryptionState;
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /** One atomic, durable write of the state record; the applier's state is `next` once it resolves. */
  commitState(next: EncryptionState): Promise<void>;
}

/** The applier's internals the Encryptor needs. Never exported from the package: key bytes stay inside core. */
export interface ApplierBridge {
  serialized<T>(task: (io: WritePath) => Promise<T>): Promise<T>;
  /** A copy of the unwrapped DEK `id`, or undefined; the caller zero-fills it. */
  dek(id: number): Uint8Array | undefined;
  readonly closed: boolean;
}

/** DEK `id` of the bridge's applier as a key object (its byte copy zero-filled), or undefined. */
export function dekKey(bridge: ApplierBridge, id: number): KeyObject | undefined {
  const dek = bridge.dek(id);
  if (dek === undefined) return undefined;
  const key = createSecretKey(dek);
  dek.fill(0);
  return key;
}

const bridges = new WeakMap<object, ApplierBridge>();

/** Called once by each Applier's constructor. */
export function bindApplierBridge(applier: object, bridge: ApplierBridge): void {
  bridges.set(applier, bridge);
}

/** The bridge of `applier`; `ERR_INVALID_ARGUMENT` when it is not an Applier of this copy of core. */
export function applierBridge(applier: unknown): ApplierBridge {
  const bridge = typeof applier === 'object' && applier !== null ? bridges.get(applier) : undefined;
  if (bridge === undefined) {
    throw new KeyledgerError(
      ErrorCode.INVALID_ARGUMENT,
      'Encryptor.open needs an Applier from this @keyledger/core (Applier.open(store, { kek }))',
    );
  }
  return bridge;
}
