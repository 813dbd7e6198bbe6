import { ErrorCode, KeyledgerError } from '../errors.js';
import { decodeBootstrap, encodeBootstrap, type Bootstrap } from './bootstrap.js';
import { decodeRegistration, encodeRegistration, type Registration } from './registration.js';
import { decodeRotation, encodeRotation, type Rotation } from './rotation.js';
import { Opcode } from './wire.js';

/** A decoded encryption entry, tagged by its opcode. */
export type Entry = ({ kind: 'registration' } & Registration) | ({ kind: 'bootstrap' } & Bootstrap) | ({ kind: 'rotation' } & Rotation);

/** True for opcodes keyledger owns (0x03–0x07); every other opcode belongs to the host. */
export function isEncryptionOpcode(opcode: number): boolean {
  return opcode >= Opcode.REGISTRATION && opcode <= Opcode.RESERVED_7;
}

/**
 * Decodes any encryption entry. Reserved opcodes raise ERR_UNKNOWN_OPCODE and foreign ones
 * ERR_NOT_ENCRYPTION_ENTRY, so a caller can tell "upgrade needed" from "not ours".
 */
export function decodeEntry(entry: Uint8Array): Entry {
  if (!(entry instanceof Uint8Array) || entry.length === 0) {
    throw new KeyledgerError(ErrorCode.FSM_WIRE_MALFORMED, 'empty entry: no opcode');
  }
  const op = entry[0]!;
  switch (op) {
    case Opcode.REGISTRATION:
      return { kind: 'registration', ...decodeRegistration(entry) };
    case Opcode.BOOTSTRAP:
      return { kind: 'bootstrap', ...decodeBootstrap(entry) };
    case Opcode.ROTATION:
      return { kind: 'rotation', ...decodeRotation(entry) };
    case Opcode.RESERVED_6:
    case Opcode.RESERVED_7:
      throw new KeyledgerError(ErrorCode.UNKNOWN_OPCODE, `reserved encryption opcode 0x0${op} is not supported by this version`);
    default:
      throw new KeyledgerError(ErrorCode.NOT_ENCRYPTION_ENTRY, `opcode 0x${op.toString(16).padStart(2, '0')} is not an encryption entry`);
  }
}

export function encodeEntry(e: Entry): Uint8Array {
  switch (e.kind) {
    case 'registration':
      return encodeRegistration(e);
    case 'bootstrap':
      return encodeBootstrap(e);
    case 'rotation':
      return encodeRotation(e);
  }
}
