import { applierBootstrapCases } from './applier-bootstrap.js';
import { applierRegistrationCases } from './applier-registration.js';
import { applierRotationCases } from './applier-rotation.js';
import { atomicityCases } from './atomicity.js';
import { basicsCases } from './basics.js';
import { closedCases } from './closed.js';
import type { ConformanceCase } from './conformance-case.js';
import { crashCases } from './crash.js';
import { crashEntriesCases } from './crash-entries.js';
import { durabilityCases } from './durability.js';
import { scanOrderCases } from './scan-order.js';
import { storeIoCases } from './store-io.js';

/** Every case, in the order the suite runs them: the store contract first, then the applier (docs/design.md, 'Store contract', 'Applier'). */
export const allCases: readonly ConformanceCase[] = [
  ...basicsCases,
  ...scanOrderCases,
  ...atomicityCases,
  ...closedCases,
  ...storeIoCases,
  ...durabilityCases,
  ...crashCases,
  ...crashEntriesCases,
  ...applierRegistrationCases,
  ...applierBootstrapCases,
  ...applierRotationCases,
];
