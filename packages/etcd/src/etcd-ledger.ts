import { Applier, type ApplierOptions, type EncryptionState, type Encryptor, ErrorCode, KeyledgerError } from '@keyledger/core';
import { Etcd3, type Lease } from 'etcd3';
import { EtcdLog } from './etcd-log.js';
import { Follower } from './follower.js';
import { ledgerClosed } from './ledger-closed.js';
import { LedgerWriter } from './ledger-writer.js';
import { bootstrapEntry, rotationEntry } from './key-entries.js';
import { resolveOptions, type EtcdLedgerOptions, type ResolvedOptions } from './options.js';
import { decodeSnapshot, encodeSnapshot, restorePuts, takeSnapshot } from './snapshot.js';

const PAGE_SIZE = 256;
const PUBLISH_INTERVAL_MS = 200;

/**
 * One keyledger node on an etcd cluster: it follows the ledger's log in etcd into its local
 * store, proposes the bootstrap on an empty log, and proposes rotations.
 *
 * @example
 * const node = await EtcdLedger.start({ etcd: { hosts: ['127.0.0.1:2379'] }, prefix: 'keyledger/dev', store, kek, nodeId: 7n });
 * await node.rotate();
 * await node.close();
 */
export class EtcdLedger {
  readonly #options: ResolvedOptions;
  readonly #client: Etcd3;
  readonly #log: EtcdLog;
  #applier: Applier;
  readonly #follower: Follower;
  readonly #writer: LedgerWriter;
  /** The last index applied in this process; covers cores whose applier keeps no index of its own. */
  #lease: Lease | undefined;
  #published = -1n;
  #publishTimer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Applies, snapshots and restores run one at a time: a snapshot must see one index's state. */
  #lock: Promise<unknown> = Promise.resolve();

  private constructor(options: ResolvedOptions, client: Etcd3, applier: Applier) {
    this.#options = options;
    this.#client = client;
    this.#applier = applier;
    this.#log = new EtcdLog(client, options.prefix);
    this.#follower = new Follower(
      this.#log,
      {
        appliedIndex: () => this.appliedIndex,
        apply: (entry, seq) =>
          this.#exclusive(async () => {
            await this.#applier.applyEntry(entry, seq);
          }),
        restoreSnapshot: () => this.#restoreSnapshot(),
        onHalt: (err) => this.#onHalt(err),
      },
      { resyncIntervalMs: options.resyncIntervalMs, pageSize: PAGE_SIZE },
    );
    this.#writer = new LedgerWriter({
      applier: () => this.#applier,
      store: options.store,
      nodeId: options.nodeId,
      propose: (build) => this.#propose(build),
    });
    this.#watchRotations();
  }

  /** A rotation by any node closes the gate; the node registers under the new DEK right away. */
  #watchRotations(): void {
    this.#applier.onApplied((event) => {
      if ('result' in event && event.result.kind === 'rotation' && !this.#closed) {
        void this.#writer.ensureRegistered().catch(() => undefined);
      }
    });
  }

  /**
   * Opens the node: catches up with the log, proposes the bootstrap when the log is empty (one
   * node wins the race; the others apply its entry) and waits until it is applied here.
   */
  static async start(options: EtcdLedgerOptions): Promise<EtcdLedger> {
    const resolved = resolveOptions(options);
    const applier = await Applier.open(resolved.store, applierOptions(resolved));
    let client: Etcd3;
    try {
      client = new Etcd3(resolved.etcd);
    } catch (err) {
      await applier.close();
      throw new KeyledgerError(ErrorCode.INVALID_ARGUMENT, 'EtcdLedger.start: the etcd client refused its options', { cause: err });
    }
    const node = new EtcdLedger(resolved, client, applier);
    try {
      await node.#open();
    } catch (err) {
      await node.close();
      throw err;
    }
    return node;
  }

  async #open(): Promise<void> {
    await this.#follower.start();
    if (this.#applier.state.active.storage === 0) {
      if ((await this.#log.head()) === 0n) await this.#log.appendAt(0n, await bootstrapEntry(this.#options.kek));
      // Whoever won, entry 1 is the bootstrap.
      await this.#follower.waitFor(1n);
    }
    // The whole log up to its head is applied before the Encryptor bumps (see LedgerWriter).
    await this.catchUp();
    await this.#writer.ensureRegistered();
    this.#lease = this.#client.lease(this.#options.leaseTtlSeconds);
    this.#lease.on('lost', () => {
      this.#lease = undefined;
      if (!this.#closed) this.#lease = this.#client.lease(this.#options.leaseTtlSeconds);
      this.#published = -1n;
    });
    await this.#publish();
    this.#publishTimer = setInterval(() => void this.#publish().catch(() => undefined), PUBLISH_INTERVAL_MS);
    this.#publishTimer.unref();
  }

  /** The highest log sequence number this node's store has applied. */
  get appliedIndex(): bigint {
    // The applier's durable applied index (docs/design.md, 'Re-delivery and the applied index'). A
    // restore writes the snapshot's index as the applied-index record before the new applier opens.
    return this.#applier.appliedIndex;
  }

  /** This node's encryption state as last committed (wrapped DEKs only). */
  get state(): EncryptionState {
    return this.#applier.state;
  }

  /** The halt that stopped this node's follower, if any. */
  get halt(): KeyledgerError | undefined {
    return this.#follower.halt;
  }

  /** Resolves once this node has applied through `index`. */
  waitForApplied(index: bigint): Promise<void> {
    if (this.#closed) return Promise.reject(ledgerClosed());
    return this.#follower.waitFor(index);
  }

  /** Resolves once this node has applied everything appended before the call. */
  async catchUp(): Promise<bigint> {
    const head = await this.#log.head();
    await this.waitForApplied(head);
    return head;
  }

  /** This node's Encryptor (its DEK id and epoch), once open. */
  get encryptor(): Encryptor | undefined {
    return this.#writer.encryptor;
  }

  /** Resolves once this node's registration under the active storage DEK took effect here (`encrypt` would not wait). */
  ready(): Promise<void> {
    if (this.#closed) return Promise.reject(ledgerClosed());
    return this.#writer.ensureRegistered();
  }

  /**
   * Seals `plaintext` bound to `context` (for instance the record's key) under the active storage
   * DEK. Waits for this node's registration under that DEK to take effect here first.
   */
  encrypt(plaintext: Uint8Array, context?: Uint8Array): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(ledgerClosed());
    return this.#writer.encrypt(plaintext, context);
  }

  /** Opens an envelope sealed by any node of the ledger under any DEK this node holds. */
  decrypt(sealed: Uint8Array, context?: Uint8Array): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(ledgerClosed());
    return this.#writer.decrypt(sealed, context);
  }

  /**
   * Proposes a storage DEK rotation and resolves with its sequence number once it is applied
   * here. Every node's Encryptor then re-registers before it encrypts again.
   */
  async rotate(): Promise<bigint> {
    return this.#propose(() => rotationEntry(this.#options.kek, this.#applier.state, this.#options.nodeId, 0));
  }

  /**
   * Appends the entry `build` makes from the state at the head, only while the head is still
   * there: what the entry was checked against is what it applies on. Lost races rebuild.
   */
  async #propose(build: () => Promise<Uint8Array>): Promise<bigint> {
    for (let attempt = 0; attempt < this.#options.maxProposalAttempts; attempt++) {
      if (this.#closed) throw ledgerClosed();
      const head = await this.catchUp();
      if (await this.#log.appendAt(head, await build())) {
        await this.waitForApplied(head + 1n);
        return head + 1n;
      }
      await new Promise((r) => setTimeout(r, Math.random() * 20 * Math.min(attempt + 1, 10)));
    }
    throw new KeyledgerError(
      ErrorCode.PROPOSAL_CONFLICT,
      `proposal lost the race for the log head ${this.#options.maxProposalAttempts} times; nothing was appended`,
    );
  }

  /**
   * Truncates the log through the lowest applied index of the live nodes (those whose published
   * index is under a live lease), after storing a snapshot of this node's state for nodes that
   * come back from behind that point. Resolves with the new truncation point, or undefined when
   * there was nothing to truncate or another node's truncation won the race.
   */
  async truncate(): Promise<bigint | undefined> {
    if (this.#closed) throw ledgerClosed();
    let through = this.appliedIndex;
    for (const applied of (await this.#log.liveApplied()).values()) if (applied < through) through = applied;
    const current = await this.#log.readSnapshot();
    const previous = current.text === undefined ? undefined : decodeSnapshot(current.text);
    if (through <= (previous?.truncatedThrough ?? 0n)) return undefined;
    const snap = await this.#exclusive(() => takeSnapshot(this.#options.store, this.appliedIndex, through));
    if (previous !== undefined && snap.index < previous.index) return undefined;
    return (await this.#log.truncate(encodeSnapshot(snap), current.modRevision, through)) ? through : undefined;
  }

  /** Restores the stored snapshot when it is ahead of this node (the log no longer holds what it needs). */
  async #restoreSnapshot(): Promise<boolean> {
    const { text } = await this.#log.readSnapshot();
    if (text === undefined) return false;
    const snap = decodeSnapshot(text);
    if (snap.index <= this.appliedIndex) return false;
    const { store, nodeId } = this.#options;
    await this.#exclusive(async () => {
      // The applier holds the store; the restore is one atomic write beside it, then a fresh load.
      await this.#writer.reset();
      await this.#applier.close();
      await store.write(await restorePuts(store, snap, nodeId));
      this.#applier = await Applier.open(store, applierOptions(this.#options));
      this.#watchRotations();
    });
    // A node that was registering registers again on the restored state (after its catch-up).
    return true;
  }

  #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(task);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  async #publish(): Promise<void> {
    const applied = this.appliedIndex;
    const lease = this.#lease;
    if (lease === undefined || applied === this.#published || this.#follower.halt) return;
    await this.#log.publishApplied(lease, this.#options.nodeId, applied);
    this.#published = applied;
  }

  #onHalt(err: KeyledgerError): void {
    // Loud: the entry, its index and the reason, on stderr and to the host's hook.
    process.stderr.write(`keyledger: ${err.message}\n`);
    // A halted node's applied index must not hold truncation back forever, nor pretend to advance.
    void this.#lease?.revoke().catch(() => undefined);
    this.#options.onHalt?.(err);
  }

  /** Stops following, withdraws the published applied index, closes the applier and the etcd client. Not the store. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#publishTimer) clearInterval(this.#publishTimer);
    await this.#writer.close();
    await this.#follower.stop();
    await this.#lease?.revoke().catch(() => undefined);
    await this.#applier.close();
    this.#client.close();
  }
}

function applierOptions(o: ResolvedOptions): ApplierOptions {
  return { kek: o.kek, now: o.now };
}
