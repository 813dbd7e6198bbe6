// The public conformance surface: the runners, their options and report. The harness that runs
// crash children and strace lives in the private @keyledger/harness package, bundled in.
export { describeRegistryStore } from './describe-registry-store.js';
export { runConformance } from './run-conformance.js';
export type { RunConformanceOptions } from './run-conformance.js';
export type { Capability, ConformanceOptions } from './options.js';
export type { CaseContext, CaseResult, CaseStatus, ConformanceCase, ConformanceReport } from './conformance-case.js';
export { allCases } from './all-cases.js';
export { FaultyStore } from './faulty-store.js';
export type { FaultOperation, FaultPlan } from './faulty-store.js';
