import { Applier, type FileKek, type RegistryStore } from '@keyledger/core';
import { demoTime } from './demo-cluster.js';
import { readReport, reportToJson, type StoreReport } from './report.js';
import { openStore, type StoreUri } from './store-uri.js';

/**
 * This replica, as the demo runs it: the store, its applier with the KEK and the fixed clock, and
 * the raft-key events the applier reported during the current step.
 */
export class DemoReplica {
  /** The raft index of the entry being applied: the fixed clock's input. */
  clockIndex = 0n;
  readonly events: string[] = [];
  #applier: Applier | undefined;

  private constructor(
    private readonly uri: StoreUri,
    private readonly kek: FileKek,
    private store: RegistryStore | undefined,
  ) {}

  static async open(uri: StoreUri, kek: FileKek, store: RegistryStore): Promise<DemoReplica> {
    const replica = new DemoReplica(uri, kek, store);
    await replica.#open();
    return replica;
  }

  get applier(): Applier {
    return this.#applier!;
  }

  async #open(): Promise<void> {
    this.store ??= await openStore(this.uri);
    this.#applier = await Applier.open(this.store, {
      kek: this.kek,
      // Deterministic `created`: one minute per raft index from a fixed date.
      now: () => demoTime(this.clockIndex),
      onRaftKeyInstalled: (cutover, dekId) => {
        this.events.push(`raft key DEK ${dekId} in effect from index ${cutover}`);
      },
    });
  }

  /** Closes and reopens store and applier; returns how many DEKs the keystore rebuilt. */
  async restart(): Promise<number> {
    await this.close();
    await this.#open();
    return this.applier.keyIds().length;
  }

  /** The store as `inspect --json` prints it: equal strings mean an unchanged state and registry. */
  async snapshot(): Promise<string> {
    return JSON.stringify(reportToJson(await this.report(), ''));
  }

  async report(): Promise<StoreReport> {
    return readReport(this.store!);
  }

  async close(): Promise<void> {
    await this.#applier?.close();
    await this.store?.close();
    this.#applier = undefined;
    this.store = undefined;
  }
}
