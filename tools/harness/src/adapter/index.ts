export { bytes, codeOf, expectOnlyOwnRows, rejectionCode, tempDirs } from './preamble.js';
export { describeAdapter } from './describe-adapter.js';
export type { AdapterConformanceOptions, AdapterSuite } from './describe-adapter.js';
export { holdInChild, importFixture, openInChild } from './child-open.js';
export type { FixtureExports, FixtureModule, OpenOutcome } from './child-open.js';
export { CODES } from './codes.js';
export type { AdapterStore, Row } from './codes.js';
