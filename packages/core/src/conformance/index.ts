export { describeRegistryStore } from './describe-registry-store.js';
export { runConformance } from './run-conformance.js';
export type { RunConformanceOptions } from './run-conformance.js';
export { allCases } from './all-cases.js';
export { FaultyStore } from './faulty-store.js';
export type { FaultOperation, FaultPlan } from './faulty-store.js';
export { moduleUrl, runChild } from './crash-child.js';
export type { ChildHandle, ChildRun, RunChildOptions } from './crash-child.js';
export type { CaseContext, CaseResult, CaseStatus, ConformanceCase, ConformanceOptions, ConformanceReport } from './conformance-case.js';
