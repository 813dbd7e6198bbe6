import { applierCases } from './applier.js';
import { atomicityCases } from './atomicity.js';
import type { ConformanceCase } from './conformance-case.js';
import { contractCases } from './contract.js';
import { crashCases } from './crash.js';
import { crashEntriesCases } from './crash-entries.js';
import { durabilityCases } from './durability.js';
import { traitCases } from './traits.js';

/** Every case, in the order the suite runs them: the store contract first, then the applier over the store, then crashes (docs/design.md, 'Conformance suite'). */
export const allCases: readonly ConformanceCase[] = [
  ...contractCases,
  ...traitCases,
  ...atomicityCases,
  ...durabilityCases,
  ...applierCases,
  ...crashCases,
  ...crashEntriesCases,
];
