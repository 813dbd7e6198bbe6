import { decodeRegistration } from '../codec/registration.js';
import type { RegistrationApplied } from './applier-options.js';
import type { RegistrationEffect } from './apply-registration.js';

/** The `registrations` of a registration entry's result: the one tuple it carries, with its effect. */
export function registrationsOf(entry: Uint8Array, effect: RegistrationEffect): readonly RegistrationApplied[] {
  return [{ ...decodeRegistration(entry), effect }];
}
