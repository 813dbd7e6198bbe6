import type { KeyObject } from 'node:crypto';
import type { Applier } from '../applier/applier.js';
import type { AppliedEvent } from '../applier/apply-result.js';
import { applierBridge, dekKey, type ApplierBridge } from '../applier/encryptor-bridge.js';
import { nodeId16 } from '../codec/registry-key.js';
import { ErrorCode, KeyledgerError, invalidArgument } from '../errors.js';
import type { KeyPurpose } from '../state/encryption-state.js';
import { bumpLocalEpoch, type BumpMode } from './local-epoch.js';
import { NonceFactory } from './nonce-factory.js';
import { RegistrationGate } from './registration-gate.js';
import { checkContext, openEnvelope, sealEnvelope } from './seal-envelope.js';

export interface EncryptorOptions {
  /** This node's full node id (u64); its low 16 bits go into every nonce. */
  nodeId: bigint;
  /** Which active DEK to write under: stored values (`storage`) or the raft log envelope (`raft`). */
  purpose: KeyPurpose;
  /** Snappy-compress storage plaintext when that makes it shorter (flag bit 0). Default false. */
  compress?: boolean;
  /**
   * Bump past the registry's last epoch for this node instead of refusing a stored `local_epoch`
   * below it (ERR_LOCAL_EPOCH_ROLLBACK). Only for a host that has just applied its whole log up to
   * its head (as `EtcdLedger` does on start): every epoch an earlier life drew a nonce under was
   * registered in that log, so the registry now names it and the new epoch lands above it.
   * Default false.
   */
  bumpPastRegistry?: boolean;
}

/** One epoch's writer: its gate, its nonces, its key. */
interface Writer {
  gate: RegistrationGate;
  nonces: NonceFactory;
  key: KeyObject;
}

interface Waiter {
  index: bigint;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function checkOptions(options: EncryptorOptions): void {
  if (typeof options !== 'object' || options === null) throw invalidArgument('Encryptor.open needs { nodeId, purpose }');
  const { nodeId, purpose } = options;
  if (typeof nodeId !== 'bigint' || nodeId < 0n || nodeId > 0xffff_ffff_ffff_ffffn)
    throw invalidArgument('nodeId must be a bigint in 0..2^64-1');
  if (purpose !== 'storage' && purpose !== 'raft') throw invalidArgument('purpose must be "storage" or "raft"');
}

/**
 * The nonce-safe write path of one node (docs/design.md, section 'Encryptor'): bumps this node's
 * local epoch durably before any nonce, refuses to encrypt until its own registration took effect,
 * builds nonces and envelopes, and decrypts under any DEK the applier holds.
 *
 * @example
 * ```ts
 * const enc = await Encryptor.open(applier, { nodeId: 0x9f3c21d45e100a01n, purpose: 'storage' });
 * const index = await raft.propose(enc.registration());
 * await enc.registered(index);
 * const sealed = await enc.encrypt(plaintext, recordKey);
 * ```
 */
export class Encryptor {
  readonly #applier: Applier;
  readonly #bridge: ApplierBridge;
  readonly #options: EncryptorOptions;
  readonly #keys = new Map<number, KeyObject>();
  #writer!: Writer;
  /** A bump in flight (after a rotation, or a refused registration): the writer is being replaced. */
  #bumping: Promise<void> | undefined;
  #failure: unknown;
  #waiters: Waiter[] = [];
  #unsubscribe: () => void = () => undefined;
  #closed = false;

  private constructor(applier: Applier, bridge: ApplierBridge, options: EncryptorOptions) {
    this.#applier = applier;
    this.#bridge = bridge;
    this.#options = { ...options };
  }

  /**
   * Runs the startup guards and bumps this node's local epoch for the active DEK of `purpose`,
   * durably, before it resolves. Rejects with ERR_NOT_BOOTSTRAPPED, ERR_KEK_NOT_CONFIGURED,
   * ERR_NODE_ID_COLLISION, ERR_LOCAL_EPOCH_EXHAUSTED or ERR_LOCAL_EPOCH_ROLLBACK.
   */
  static async open(applier: Applier, options: EncryptorOptions): Promise<Encryptor> {
    const bridge = applierBridge(applier);
    checkOptions(options);
    if (bridge.closed) throw new KeyledgerError(ErrorCode.APPLIER_CLOSED, 'the applier is closed');
    const enc = new Encryptor(applier, bridge, options);
    await enc.#bump(options.bumpPastRegistry === true ? 'past-registry' : 'open', true);
    return enc;
  }

  get nodeId(): bigint {
    return this.#options.nodeId;
  }

  get purpose(): KeyPurpose {
    return this.#options.purpose;
  }

  /** The DEK this node writes under now. */
  get dekId(): number {
    return this.#writer.gate.dekId;
  }

  /** This process's local epoch for {@link Encryptor.dekId}. */
  get epoch(): number {
    return this.#writer.gate.epoch;
  }

  /** True once this epoch's registration took effect here: `encrypt` may run. */
  get isRegistered(): boolean {
    return this.#bumping === undefined && this.#writer.gate.isOpen;
  }

  /** Resolves once no bump is in flight (after a rotation, or a refused registration). */
  async ready(): Promise<void> {
    while (this.#bumping !== undefined) await this.#bumping;
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** The 0x03 entry (active DEK, this node, this epoch) the host must replicate. */
  registration(): Uint8Array {
    this.#checkUsable();
    return this.#writer.gate.entry();
  }

  /**
   * Takes the log index the host's proposal of `registration()` got; resolves once the local
   * applier applied through it and the entry there took effect for this node at this epoch.
   * Rejects with ERR_LOCAL_EPOCH_ROLLBACK when that entry applied as a replay, registered a later
   * epoch, halted as a rollback, or the index was applied before this epoch existed: the epoch is
   * then bumped again before the rejection, and `registration()` returns the new entry.
   */
  registered(index: bigint): Promise<void> {
    if (typeof index !== 'bigint' || index < 1n || index > 0xffff_ffff_ffff_ffffn) {
      return Promise.reject(invalidArgument('index must be a bigint log index in 1..2^64-1'));
    }
    try {
      this.#checkUsable();
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ index, resolve, reject });
      this.#settle();
    });
  }

  /** Seals `plaintext` in an envelope bound to `context` (storage; must be empty for raft). */
  async encrypt(plaintext: Uint8Array, context: Uint8Array = new Uint8Array(0)): Promise<Uint8Array> {
    if (!(plaintext instanceof Uint8Array)) throw invalidArgument('plaintext must be a Uint8Array');
    checkContext(this.#options.purpose, context);
    this.#checkUsable();
    const writer = this.#writer;
    if (!writer.gate.isOpen) {
      throw new KeyledgerError(
        ErrorCode.WRITER_NOT_REGISTERED,
        `epoch ${writer.gate.epoch} of DEK ${writer.gate.dekId} is not registered yet: propose enc.registration() and await enc.registered(index)`,
      );
    }
    const nonce = writer.nonces.next();
    const compress = this.#options.compress === true && this.#options.purpose === 'storage';
    return sealEnvelope(writer.key, writer.gate.dekId, nonce, plaintext, this.#options.purpose, context, compress);
  }

  /** Opens an envelope sealed under any DEK the applier holds. Needs no registry. */
  async decrypt(sealed: Uint8Array, context: Uint8Array = new Uint8Array(0)): Promise<Uint8Array> {
    if (this.#closed) throw new KeyledgerError(ErrorCode.ENCRYPTOR_CLOSED, 'the encryptor is closed');
    checkContext(this.#options.purpose, context);
    return openEnvelope(sealed, this.#options.purpose, context, (id) => this.#key(id));
  }

  /** Stops listening to the applier and drops the keys. Pending `registered` calls reject. Does not close the applier. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    this.#keys.clear();
    const closed = new KeyledgerError(ErrorCode.ENCRYPTOR_CLOSED, 'the encryptor was closed');
    for (const w of this.#waiters.splice(0)) w.reject(closed);
    await this.#bumping?.catch(() => undefined);
  }

  #checkUsable(): void {
    if (this.#closed) throw new KeyledgerError(ErrorCode.ENCRYPTOR_CLOSED, 'the encryptor is closed');
    if (this.#bridge.closed)
      throw new KeyledgerError(ErrorCode.APPLIER_CLOSED, 'the applier is closed: this encryptor can no longer see rotations');
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#bumping !== undefined) {
      throw new KeyledgerError(
        ErrorCode.WRITER_NOT_REGISTERED,
        'a new epoch is being bumped: await enc.ready(), then register enc.registration()',
      );
    }
  }

  #key(id: number): KeyObject | undefined {
    let key = this.#keys.get(id);
    if (key !== undefined) return key;
    key = dekKey(this.#bridge, id);
    if (key !== undefined) this.#keys.set(id, key);
    return key;
  }

  /** Bumps the epoch in the applier's write path and installs the new writer there, so no event falls in between. */
  #bump(mode: BumpMode, subscribe: boolean): Promise<void> {
    const { purpose, nodeId } = this.#options;
    const run = this.#bridge.serialized(async (io) => {
      const { dekId, epoch } = await bumpLocalEpoch(io, this.#bridge, purpose, nodeId, mode);
      const key = this.#key(dekId)!;
      this.#writer = {
        gate: new RegistrationGate(dekId, epoch, nodeId, this.#applier.appliedIndex),
        nonces: new NonceFactory(nodeId16(nodeId), epoch),
        key,
      };
      if (subscribe) this.#unsubscribe = this.#applier.onApplied((event) => this.#observe(event));
    });
    if (subscribe) return run;
    const bumping = run.then(
      () => {
        this.#bumping = undefined;
      },
      (err: unknown) => {
        this.#bumping = undefined;
        this.#failure = err;
      },
    );
    this.#bumping = bumping;
    return bumping;
  }

  #observe(event: AppliedEvent): void {
    if (this.#closed || this.#bumping !== undefined || this.#failure !== undefined) return;
    const writer = this.#writer;
    writer.gate.observe(event);
    if (this.#applier.state.active[this.#options.purpose] !== writer.gate.dekId) {
      // A rotation: the old epoch's writer is done; the node bumps for the new DEK and registers again.
      this.#rejectWaiters(
        new KeyledgerError(
          ErrorCode.WRITER_NOT_REGISTERED,
          `DEK ${writer.gate.dekId} was rotated out: await enc.ready(), then register enc.registration()`,
        ),
      );
      // The new key's rows all come from this store's own log, so bumping past them is sound.
      void this.#bump('past-registry', false);
      return;
    }
    this.#settle();
    if (this.#bumping === undefined && this.#waiters.length === 0 && writer.gate.isBurned) void this.#bump('past-registry', false);
  }

  #rejectWaiters(err: unknown): void {
    for (const w of this.#waiters.splice(0)) w.reject(err);
  }

  #settle(): void {
    if (this.#bumping !== undefined) return;
    const gate = this.#writer.gate;
    const keep: Waiter[] = [];
    for (const w of this.#waiters) {
      const verdict = gate.verdict(w.index, this.#applier.appliedIndex);
      if (verdict.kind === 'pending') keep.push(w);
      else if (verdict.kind === 'registered') w.resolve();
      else if (!verdict.bumpAgain) w.reject(verdict.error);
      else {
        // The epoch may be an earlier life's: bump past the registry before answering, so the
        // host's next registration() already carries a fresh epoch.
        this.#waiters = keep.concat(this.#waiters.slice(this.#waiters.indexOf(w) + 1));
        const error = verdict.error;
        void this.#bump('past-registry', false).then(() => {
          w.reject(this.#failure ?? error);
          this.#rejectWaiters(
            new KeyledgerError(ErrorCode.WRITER_NOT_REGISTERED, `epoch bumped to ${this.epoch}: register enc.registration() again`),
          );
        });
        return;
      }
    }
    this.#waiters = keep;
  }
}
