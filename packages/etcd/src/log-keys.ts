import { ErrorCode, KeyledgerError } from '@keyledger/core';

/** A u64 in decimal is at most 20 digits: zero-padding to 20 makes etcd's byte order the log order. */
const SEQ_DIGITS = 20;
const U64_MAX = 0xffff_ffff_ffff_ffffn;

/**
 * Where a ledger's records live in etcd, all under one prefix:
 *
 * | key                          | value                                              |
 * |------------------------------|----------------------------------------------------|
 * | `<prefix>/head`              | the last appended sequence number, decimal         |
 * | `<prefix>/log/<seq, 20 dig>` | one encryption entry, its raw bytes                |
 * | `<prefix>/snapshot`          | the snapshot a node behind the truncation restores |
 * | `<prefix>/nodes/<id, 16 hex>`| a live node's applied index (under its lease)      |
 */
/** What a ledger's prefix must be (the keys below are built from it). */
export const LOG_PREFIX_RULE = 'prefix must be a non-empty string of at most 256 characters';

export function isLogPrefix(prefix: unknown): prefix is string {
  return typeof prefix === 'string' && prefix.length > 0 && prefix.length <= 256;
}

export class LogKeys {
  readonly head: string;
  readonly logStart: string;
  /** Exclusive end of the log range: '0' sorts right after '/'. */
  readonly logEnd: string;
  readonly snapshot: string;
  readonly nodes: string;

  constructor(prefix: string) {
    if (!isLogPrefix(prefix)) throw new KeyledgerError(ErrorCode.INVALID_ARGUMENT, LOG_PREFIX_RULE);
    const base = prefix.replace(/\/+$/, '');
    this.head = `${base}/head`;
    this.logStart = `${base}/log/`;
    this.logEnd = `${base}/log0`;
    this.snapshot = `${base}/snapshot`;
    this.nodes = `${base}/nodes/`;
  }

  entry(seq: bigint): string {
    return `${this.logStart}${seq.toString().padStart(SEQ_DIGITS, '0')}`;
  }

  node(fullNodeId: bigint): string {
    return `${this.nodes}${fullNodeId.toString(16).padStart(16, '0')}`;
  }

  /** The sequence number of a log key, or undefined for a key that is not one. */
  seqOf(key: string): bigint | undefined {
    if (!key.startsWith(this.logStart)) return undefined;
    const digits = key.slice(this.logStart.length);
    if (digits.length !== SEQ_DIGITS || !/^\d+$/.test(digits)) return undefined;
    return BigInt(digits);
  }
}

/** Parses a decimal u64 written by this package (head, applied index); `what` names it in the error. */
export function parseSeq(text: string, what: string): bigint {
  if (!/^\d{1,20}$/.test(text) || BigInt(text) > U64_MAX) {
    throw new KeyledgerError(ErrorCode.SNAPSHOT_MALFORMED, `${what} is not a decimal u64`);
  }
  return BigInt(text);
}
