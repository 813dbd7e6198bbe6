import {
  type Applier,
  Encryptor,
  ErrorCode,
  KeyledgerError,
  type RegistryStore,
  decodeRegistryRow,
  hasCode,
  registryKey,
} from '@keyledger/core';
import { ledgerClosed } from './ledger-closed.js';

/** What the writer needs from its ledger node. */
export interface WriterHost {
  applier(): Applier;
  readonly store: RegistryStore;
  readonly nodeId: bigint;
  /** Appends the entry `build` makes at the current head; resolves with its sequence number once applied here. */
  propose(build: () => Promise<Uint8Array>): Promise<bigint>;
}

/** Registrations refused as replays in a row before the node gives up (each one bumps the epoch). */
const MAX_REGISTRATION_ROUNDS = 8;
/** Encrypts that find the gate closed by a rotation in between, before giving up. */
const MAX_ENCRYPT_ROUNDS = 8;

/**
 * The node's nonce-safe write path over the log in etcd (docs/design.md, section 'Encryptor'):
 * opens the Encryptor once the node has applied the whole log, proposes its registration at the
 * head and opens `encrypt` only once `registered` accepts the sequence number that append got.
 * After a rotation (by any node) the Encryptor bumps for the new DEK and this writer registers again.
 */
export class LedgerWriter {
  readonly #host: WriterHost;
  #encryptor: Encryptor | undefined;
  #registering: Promise<void> | undefined;
  #closed = false;

  constructor(host: WriterHost) {
    this.#host = host;
  }

  /** This node's Encryptor, once open. */
  get encryptor(): Encryptor | undefined {
    return this.#encryptor;
  }

  /** Registers this node (opening its Encryptor first when needed); one attempt runs at a time. */
  ensureRegistered(): Promise<void> {
    this.#registering ??= this.#register().finally(() => {
      this.#registering = undefined;
    });
    return this.#registering;
  }

  async #register(): Promise<void> {
    for (let round = 0; round < MAX_REGISTRATION_ROUNDS; round++) {
      const enc = await this.#open();
      await enc.ready();
      if (enc.isRegistered) return;
      let refused: unknown;
      try {
        const seq = await this.#host.propose(async () => {
          // The catch-up before this build may have applied a rotation: the epoch is bumped anew.
          await enc.ready();
          await this.#checkSlot(enc).catch((err: unknown) => {
            refused = err;
            throw err;
          });
          return enc.registration();
        });
        await enc.registered(seq);
        return;
      } catch (err) {
        // A replayed or superseded registration: the Encryptor bumped again; propose the new epoch.
        // A rotation in between: it bumps for the new DEK; register that. A refused slot is final.
        if (err === refused || !(hasCode(err, ErrorCode.LOCAL_EPOCH_ROLLBACK) || hasCode(err, ErrorCode.WRITER_NOT_REGISTERED))) throw err;
      }
    }
    throw new KeyledgerError(
      ErrorCode.LOCAL_EPOCH_ROLLBACK,
      `node registration was refused ${MAX_REGISTRATION_ROUNDS} times in a row: another process may be running with this node id`,
    );
  }

  async #open(): Promise<Encryptor> {
    if (this.#closed) throw ledgerClosed();
    // The node has applied the log to its head before this runs, so bumping past the registry is sound.
    this.#encryptor ??= await Encryptor.open(this.#host.applier(), {
      nodeId: this.#host.nodeId,
      purpose: 'storage',
      bumpPastRegistry: true,
    });
    return this.#encryptor;
  }

  /**
   * Checked against the state at the head the entry will be appended after: a registration that
   * would halt every replica (a slot owned by another node id, an epoch not above the registry's)
   * is refused here and never reaches the log.
   */
  async #checkSlot(enc: Encryptor): Promise<void> {
    const raw = await this.#host.store.get(registryKey(enc.dekId, this.#host.nodeId));
    if (raw === undefined) return;
    const row = decodeRegistryRow(raw);
    if (row.fullNodeId !== this.#host.nodeId) {
      throw new KeyledgerError(
        ErrorCode.NODE_ID_COLLISION,
        `node id 0x${this.#host.nodeId.toString(16)} shares its 16-bit slot with node 0x${row.fullNodeId.toString(16)} under DEK ${enc.dekId}: choose a node id whose low 16 bits are unused`,
      );
    }
    if (row.lastSeenEpoch >= enc.epoch) {
      throw new KeyledgerError(
        ErrorCode.LOCAL_EPOCH_ROLLBACK,
        `the registry already holds epoch ${row.lastSeenEpoch} for this node under DEK ${enc.dekId}, not below ${enc.epoch}: another process is running with this node id`,
      );
    }
  }

  async encrypt(plaintext: Uint8Array, context?: Uint8Array): Promise<Uint8Array> {
    for (let round = 0; ; round++) {
      const enc = await this.#open();
      if (!enc.isRegistered) await this.ensureRegistered();
      try {
        return await enc.encrypt(plaintext, context);
      } catch (err) {
        // A rotation applied between the gate opening and this call: register under the new DEK.
        if (!hasCode(err, ErrorCode.WRITER_NOT_REGISTERED) || round + 1 >= MAX_ENCRYPT_ROUNDS) throw err;
      }
    }
  }

  async decrypt(sealed: Uint8Array, context?: Uint8Array): Promise<Uint8Array> {
    return (await this.#open()).decrypt(sealed, context);
  }

  /** Closes the Encryptor (before its applier is replaced); the next call opens a new one. */
  async reset(): Promise<void> {
    const enc = this.#encryptor;
    this.#encryptor = undefined;
    await enc?.close();
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.reset();
    await this.#registering?.catch(() => undefined);
  }
}
