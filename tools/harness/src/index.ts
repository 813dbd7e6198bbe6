// Harness internals shared by core's conformance suite (which bundles them into its build),
// bench/ and reliability/. Private: users get the suite, not its plumbing.
export { EtcdCluster, etcdMissing } from './etcd-cluster.js';
export { replicatedView } from './replicated-view.js';
