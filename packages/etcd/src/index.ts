export { EtcdLedger } from './etcd-ledger.js';
export type { EtcdConnectionOptions, EtcdLedgerOptions } from './options.js';
export { EtcdLog } from './etcd-log.js';
export type { LoggedEntry, LogPage } from './etcd-log.js';
export { LogKeys } from './log-keys.js';
