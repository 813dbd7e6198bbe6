import type { ApplyResult } from '../applier/apply-result.js';

/** `kind` and `effect` of a result (an `already-applied` result has no effect), for comparing with `{ kind, effect }`. */
export function kindAndEffect(r: ApplyResult): { kind: ApplyResult['kind']; effect?: string } {
  return r.kind === 'already-applied' ? { kind: r.kind } : { kind: r.kind, effect: r.effect };
}

/** The effect of a result, or `already-applied`. */
export function effectOf(r: ApplyResult): string {
  return r.kind === 'already-applied' ? r.kind : r.effect;
}
