// The etcd part of the harness, on its own subpath so that core's suite, which bundles the
// harness index, never pulls in an etcd client.
export { EtcdCluster, etcdMissing } from './etcd-cluster.js';
export { replicatedView } from './replicated-view.js';
