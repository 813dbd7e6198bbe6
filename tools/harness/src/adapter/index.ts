export { bytes, codeOf, collect, rejectionCode, tempDirs } from './preamble.js';
export { describeHandleRefusals } from './foreign-handles.js';
export { describeOpenByPath } from './describe-open-by-path.js';
export type { OpenByPathOptions } from './describe-open-by-path.js';
export { describeOneApplier } from './describe-one-applier.js';
export type { OneApplierOptions } from './describe-one-applier.js';
export { holdInChild, openInChild } from './child-open.js';
export type { FixtureModule, OpenOutcome } from './child-open.js';
