import { ErrorCode, KeyledgerError, isKeyledgerError } from '@keyledger/core';
import type { Etcd3, Lease, Watcher } from 'etcd3';
import { LogKeys, parseSeq } from './log-keys.js';

/** One log entry as read from etcd. */
export interface LoggedEntry {
  seq: bigint;
  entry: Uint8Array;
}

/** A page of the log and the etcd revision it was read at. */
export interface LogPage {
  entries: LoggedEntry[];
  /** True when entries beyond this page exist at `revision`. */
  more: boolean;
  revision: bigint;
}

/** Wraps an etcd client failure in ERR_ETCD_UNAVAILABLE; keyledger's own errors pass through. */
export async function etcdCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (isKeyledgerError(err)) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new KeyledgerError(ErrorCode.ETCD_UNAVAILABLE, `etcd ${what} failed: ${reason}`, { cause: err });
  }
}

function bytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/**
 * The ledger's log in etcd: gapless sequence numbers from 1, each appended by a transaction that
 * compares the head, so every node sees one order and an append never overwrites (see the key
 * layout in {@link LogKeys}).
 */
export class EtcdLog {
  readonly keys: LogKeys;

  constructor(
    readonly client: Etcd3,
    prefix: string,
  ) {
    this.keys = new LogKeys(prefix);
  }

  /** The last appended sequence number (at `atRevision`, when given); 0 for an empty log. */
  async head(atRevision?: bigint): Promise<bigint> {
    const text = await etcdCall('read head', () => {
      const get = this.client.get(this.keys.head);
      return (atRevision === undefined ? get : get.revision(atRevision.toString())).string();
    });
    return text === null ? 0n : parseSeq(text, 'log head');
  }

  /**
   * Appends `entry` as number `expectedHead + 1` if, and only if, the head is still
   * `expectedHead`. False when another node appended first: nothing was written.
   */
  async appendAt(expectedHead: bigint, entry: Uint8Array): Promise<boolean> {
    const seq = expectedHead + 1n;
    const { head } = this.keys;
    const result = await etcdCall('append', () => {
      // A missing key compares as Version 0 in etcd, not as an empty value.
      const cmp =
        expectedHead === 0n ? this.client.if(head, 'Version', '==', 0) : this.client.if(head, 'Value', '==', expectedHead.toString());
      return cmp
        .then(this.client.put(head).value(seq.toString()), this.client.put(this.keys.entry(seq)).value(Buffer.from(entry)))
        .commit();
    });
    return result.succeeded;
  }

  /** Reads up to `limit` entries from `from` on, in order, with the revision they were read at. */
  async read(from: bigint, limit: number): Promise<LogPage> {
    const res = await etcdCall('read log', () =>
      this.client
        .getAll()
        .inRange({ start: this.keys.entry(from), end: this.keys.logEnd })
        .limit(limit)
        .exec(),
    );
    const entries: LoggedEntry[] = [];
    for (const kv of res.kvs) {
      const seq = this.keys.seqOf(kv.key.toString());
      if (seq === undefined) continue;
      entries.push({ seq, entry: bytes(kv.value) });
    }
    return { entries, more: res.more, revision: BigInt(res.header.revision) };
  }

  /** Watches appended entries from `revision` on. */
  watch(revision: bigint): Promise<Watcher> {
    return etcdCall('watch log', () => this.client.watch().prefix(this.keys.logStart).startRevision(revision.toString()).create());
  }

  /** The log entry an etcd watch event carries, or undefined for an event on another key. */
  entryOf(key: Buffer, value: Buffer): LoggedEntry | undefined {
    const seq = this.keys.seqOf(key.toString());
    return seq === undefined ? undefined : { seq, entry: bytes(value) };
  }

  /** Publishes this node's applied index under its lease: the truncation waits for live nodes. */
  async publishApplied(lease: Lease, fullNodeId: bigint, applied: bigint): Promise<void> {
    await etcdCall('publish applied index', () => lease.put(this.keys.node(fullNodeId)).value(applied.toString()).exec());
  }

  /** Every live node's published applied index, by key. */
  async liveApplied(): Promise<Map<string, bigint>> {
    const all = await etcdCall('read live nodes', () => this.client.getAll().prefix(this.keys.nodes).strings());
    const out = new Map<string, bigint>();
    for (const [key, value] of Object.entries(all)) out.set(key, parseSeq(value, `applied index at ${key}`));
    return out;
  }

  /** The stored snapshot record and its etcd mod revision (0 when there is none). */
  async readSnapshot(): Promise<{ text: string | undefined; modRevision: bigint }> {
    const res = await etcdCall('read snapshot', () => this.client.get(this.keys.snapshot).exec());
    const kv = res.kvs[0];
    return kv === undefined ? { text: undefined, modRevision: 0n } : { text: kv.value.toString(), modRevision: BigInt(kv.mod_revision) };
  }

  /**
   * Stores `snapshotText` and deletes the entries through `through`, in one transaction that
   * holds only while the snapshot record is the one read at `snapshotRevision` (so an older
   * snapshot never replaces a newer one). False when it lost that race.
   */
  async truncate(snapshotText: string, snapshotRevision: bigint, through: bigint): Promise<boolean> {
    const { snapshot } = this.keys;
    const res = await etcdCall('truncate log', () =>
      this.client
        .if(snapshot, 'Mod', '==', snapshotRevision.toString())
        .then(
          this.client.put(snapshot).value(snapshotText),
          this.client.delete().inRange({ start: this.keys.entry(1n), end: this.keys.entry(through + 1n) }),
        )
        .commit(),
    );
    return res.succeeded;
  }
}
