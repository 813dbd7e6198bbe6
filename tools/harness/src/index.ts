// Harness internals shared by core's conformance suite (which bundles them into its build),
// bench/ and reliability/. Private: users get the suite, not its plumbing.
export { RUN_MAIN_SCRIPT, moduleUrl, runChild } from './run-child.js';
export type { ChildHandle, ChildRun, RunChildOptions } from './run-child.js';
export { findStrace, SYNC_CALLS, traceWriteSyncs } from './sync-trace.js';
export type { SyncCall, WriteSyncTrace } from './sync-trace.js';
