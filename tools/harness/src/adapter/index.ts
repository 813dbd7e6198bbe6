export { bytes, codeOf, collect, rejectionCode, tempDirs } from './preamble.js';
export { describeHandleRefusals } from './foreign-handles.js';
export { describeOpenByPath } from './describe-open-by-path.js';
export type { AdapterCaseOptions } from './describe-open-by-path.js';
export { describeOneApplier } from './describe-one-applier.js';
export { holdInChild, importFixture, openInChild } from './child-open.js';
export type { FixtureExports, FixtureModule, OpenOutcome } from './child-open.js';
export { CODES } from './codes.js';
export type { AdapterStore, Row } from './codes.js';
