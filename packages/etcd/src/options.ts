import { ErrorCode, KeyledgerError, type Kek, type RegistryStore } from '@keyledger/core';
import type { IOptions } from 'etcd3';
import { LOG_PREFIX_RULE, isLogPrefix } from './log-keys.js';

/** How to reach etcd: passed to the `etcd3` client as is (hosts, TLS `credentials`, `auth`, gRPC options…). */
export type EtcdConnectionOptions = IOptions;

export interface EtcdLedgerOptions {
  /** The etcd cluster: `{ hosts: ['10.0.0.1:2379', …] }`, plus `credentials` for TLS and `auth` for a user. */
  etcd: EtcdConnectionOptions;
  /** Where the log lives in etcd, for instance `keyledger/prod`. Every node of one ledger uses the same prefix. */
  prefix: string;
  /** This node's local store (any adapter). The ledger does not close it. */
  store: RegistryStore;
  /** The KEK every node of the ledger shares: it wraps the DEKs carried by bootstrap and rotation entries. */
  kek: Kek;
  /** This node's 64-bit id. Its low 16 bits must not collide with another node's. */
  nodeId: bigint;
  /** Seconds a node's applied index stays published after it stops renewing (default 10). */
  leaseTtlSeconds?: number;
  /** Milliseconds between re-reads of the log while the watch is quiet (default 1000). */
  resyncIntervalMs?: number;
  /** Attempts a proposal makes at the head before ERR_PROPOSAL_CONFLICT (default 64). */
  maxProposalAttempts?: number;
  /** Called once when the follower stops on an entry it cannot apply (the node stays stopped). */
  onHalt?: (err: KeyledgerError) => void;
  /** Clock for a key's `created` time. */
  now?: () => Date;
}

/** The options after defaults, checked. */
export interface ResolvedOptions extends EtcdLedgerOptions {
  leaseTtlSeconds: number;
  resyncIntervalMs: number;
  maxProposalAttempts: number;
}

const U64_MAX = 0xffff_ffff_ffff_ffffn;

function invalid(message: string): KeyledgerError {
  return new KeyledgerError(ErrorCode.INVALID_ARGUMENT, `EtcdLedger.start: ${message}`);
}

function positiveInt(name: string, v: unknown, fallback: number, max: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw invalid(`${name} must be an integer in 1..${max}`);
  return v;
}

/** Checks every option before anything is opened or written. */
export function resolveOptions(o: EtcdLedgerOptions): ResolvedOptions {
  if (typeof o !== 'object' || o === null) throw invalid('options must be an object');
  if (typeof o.etcd !== 'object' || o.etcd === null || o.etcd.hosts === undefined) throw invalid('etcd.hosts is required');
  // LogKeys' rule, checked here too: a prefix refused once the applier holds the store would leave it held.
  if (!isLogPrefix(o.prefix)) throw invalid(LOG_PREFIX_RULE);
  if (o.prefix.replace(/\/+$/, '').length === 0) throw invalid('prefix must not be only slashes');
  if (typeof o.store !== 'object' || o.store === null) throw invalid('store must be an open RegistryStore');
  if (typeof o.kek !== 'object' || o.kek === null || typeof o.kek.wrap !== 'function' || typeof o.kek.unwrap !== 'function') {
    throw invalid('kek must be a Kek (wrap and unwrap), for instance FileKek.open(path)');
  }
  if (typeof o.nodeId !== 'bigint' || o.nodeId < 0n || o.nodeId > U64_MAX) throw invalid('nodeId must be a bigint in 0..2^64-1');
  return {
    ...o,
    leaseTtlSeconds: positiveInt('leaseTtlSeconds', o.leaseTtlSeconds, 10, 3600),
    resyncIntervalMs: positiveInt('resyncIntervalMs', o.resyncIntervalMs, 1000, 3_600_000),
    maxProposalAttempts: positiveInt('maxProposalAttempts', o.maxProposalAttempts, 64, 100_000),
  };
}
