import type { KeyledgerError } from '../errors.js';
import type { BootstrapEffect } from './apply-bootstrap.js';
import type { RotationEffect } from './apply-rotation.js';
import type { RegistrationEffect } from './registration-rule.js';

/** One registration an entry applied: a registration entry, a bootstrap batch row, a rotation's proposer. */
export interface RegistrationApplied {
  dekId: number;
  fullNodeId: bigint;
  localEpoch: number;
  effect: RegistrationEffect;
}

/**
 * What an applied entry did, keyed on `kind`. `registrations` lists every registration the entry
 * applied with its effect (one for a registration entry; a bootstrap's batch rows; a rotation's
 * proposer; none for a replay). `already-applied`: the entry's index is at or below the applied
 * index, so it was applied before (a Raft re-delivery) and changed nothing.
 */
export type ApplyResult =
  | { kind: 'registration'; effect: RegistrationEffect; registrations: readonly RegistrationApplied[] }
  | { kind: 'bootstrap'; effect: BootstrapEffect; registrations: readonly RegistrationApplied[] }
  | { kind: 'rotation'; effect: RotationEffect; registrations: readonly RegistrationApplied[] }
  | { kind: 'already-applied'; index: bigint };

/**
 * What `onApplied` listeners see, in log order: an entry's result once its effects are durable,
 * or a halt once the entries before it are committed.
 */
export type AppliedEvent = { index: bigint | undefined; result: ApplyResult } | { index: bigint | undefined; halt: KeyledgerError };
