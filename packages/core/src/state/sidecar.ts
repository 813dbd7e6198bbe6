/**
 * Export to and import from elastickv's `keys.json` sidecar: the same document as the stored
 * record (see `encryption-state.ts`, where the mapping lives), pretty-printed for people.
 */

import { stateFromJson, stateToDocument, type EncryptionState } from './encryption-state.js';

/**
 * The state as a version-2 `keys.json` document: two-space indented JSON with a trailing
 * newline, fields in the fixed record order. Throws `ERR_STATE_MALFORMED` for an invalid state.
 *
 * @example
 * ```ts
 * await writeFile('keys.json', exportSidecar(applier.state), { mode: 0o600 });
 * ```
 */
export function exportSidecar(state: EncryptionState): string {
  return `${JSON.stringify(stateToDocument(state), null, 2)}\n`;
}

/**
 * Reads a `keys.json` document of version 2, or of version 1, whose `storage_envelope_active`,
 * `storage_envelope_cutover_index` and `raft_envelope_cutover_index` may be absent (they default
 * to false, 0 and 0). The result is always a version-2 state. Throws `ERR_STATE_MALFORMED`
 * naming the field or rule that failed.
 */
export function importSidecar(json: string): EncryptionState {
  return stateFromJson(json, { acceptVersion1: true });
}
