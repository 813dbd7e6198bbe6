import { ok } from 'node:assert/strict';
import type { Applier } from '../../src/applier/applier.js';
import type { ApplyResult } from '../../src/applier/apply-result.js';
import { bytesEqual, compareBytes } from '../../src/bytes.js';
import { APPLIED_KEY, encodeAppliedIndex } from '../../src/codec/applied-index.js';
import { isHalt, type KeyledgerErrorCode } from '../../src/errors.js';
import { rejectsWithCode, sameBytes } from '../../src/conformance/assertions.js';
import { type Observed, observe, unchanged } from '../../src/conformance/fixtures.js';
import { STATE_KEY, encodeState } from '../../src/state/encryption-state.js';
import { exportSidecar, importSidecar } from '../../src/state/sidecar.js';
import type { RegistryStore } from '../../src/store/registry-store.js';

// Core's applier tests use the suite's fixtures (entries, keys, KEKs) plus these assertions,
// which only tests of the applier itself need.
export * from '../../src/conformance/fixtures.js';
export { rejectsWithCode, sameBytes, sameEntries, scanAll } from '../../src/conformance/assertions.js';

/** The same wrapped DEK with one ciphertext bit flipped: no KEK can unwrap it. */
export function tampered(wrapped: Uint8Array): Uint8Array {
  const out = new Uint8Array(wrapped);
  out[20] = out[20]! ^ 0x01;
  return out;
}

/** Applies `entry`, expects a halt whose cause chain carries `code`, and that nothing changed. */
export async function haltsAndChangesNothing(
  store: RegistryStore,
  applier: Applier,
  entry: Uint8Array,
  index: bigint | undefined,
  code: KeyledgerErrorCode,
  what: string,
): Promise<void> {
  const before = await observe(store, applier);
  const err = await rejectsWithCode(applier.applyEntry(entry, index), code, what);
  ok(isHalt(err), `${what}: must be a halt (ERR_ENCRYPTION_APPLY), got ${(err as { code?: string }).code}`);
  await unchanged(store, applier, before, what);
}

/** The stored state record must be exactly what the applier holds. */
export async function storedStateIsHeld(store: RegistryStore, applier: Applier, what: string): Promise<void> {
  sameBytes(await store.get(STATE_KEY), encodeState(applier.state), `${what}: the stored state record`);
}

/** Asserts that the only change since `before` is the applied index (state and `!encryption|applied` record), which is now `index`. */
export async function onlyIndexRaised(
  store: RegistryStore,
  applier: Applier,
  before: Observed,
  index: bigint,
  what: string,
): Promise<void> {
  const raised = { ...importSidecar(before.state), raftAppliedIndex: index };
  const rows = before.rows
    .filter((r) => !bytesEqual(r.key, APPLIED_KEY))
    .map((r) => (bytesEqual(r.key, STATE_KEY) ? { key: r.key, value: encodeState(raised) } : r))
    .concat({ key: APPLIED_KEY, value: encodeAppliedIndex(index) })
    .sort((a, b) => compareBytes(a.key, b.key));
  await unchanged(store, applier, { rows, state: exportSidecar(raised), keyIds: before.keyIds }, what);
}

/** `kind` and `effect` of a result (an `already-applied` result has no effect), for comparing with `{ kind, effect }`. */
export function kindAndEffect(r: ApplyResult): { kind: ApplyResult['kind']; effect?: string } {
  return r.kind === 'already-applied' ? { kind: r.kind } : { kind: r.kind, effect: r.effect };
}

/** The effect of a result, or `already-applied`. */
export function effectOf(r: ApplyResult): string {
  return r.kind === 'already-applied' ? r.kind : r.effect;
}
