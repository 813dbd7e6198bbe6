import { Applier, FileKek, MemoryRegistryStore, isKeyledgerError, reasonCode, type RegistryStore, type StoreEntry } from '@keyledger/core';
import { StoreDigest, hex } from './digest.js';
import type { GeneratedLog, LogEntry } from './log-generator.js';

/** Fixed clock: `created` must not differ between a crashed run and the reference run. */
export const FIXED_CLOCK = (): Date => new Date(0);

/** 'ok', 'already-applied' (a re-delivered entry), or the reason code of a halt / rejection ('ERR_…'). */
export type Outcome = string;

export function outcomeOf(err: unknown): Outcome {
  if (!isKeyledgerError(err)) throw err;
  return reasonCode(err) ?? err.code;
}

/** A MemoryRegistryStore that reports every durable write to a listener. */
class RecordingStore extends MemoryRegistryStore {
  onWrite: ((puts: readonly StoreEntry[]) => void) | undefined;
  override async write(puts: readonly StoreEntry[]): Promise<void> {
    await super.write(puts);
    this.onWrite?.(puts);
  }
}

/**
 * What a run that never crashed does with a log: each entry's outcome, the store digest after
 * every prefix, and for every key the entries that wrote it (with the values), from which a
 * crashed store's content can be dated and lost acknowledged entries counted.
 */
export interface Reference {
  outcomes: Outcome[];
  /** digests[i] is the store digest after entries 1..i (digests[0]: empty store). */
  digests: string[];
  /** key → [entry number, value hex] in log order. */
  history: Map<string, [number, string][]>;
  /** writers[i]: the number of entries among 1..i that wrote anything. */
  writers: number[];
  /** The final content, in scan order. */
  finalRows: [string, string][];
  /** Outcomes of re-applying the whole log once more over the final state. */
  replayOutcomes: Outcome[];
}

export async function applyOne(applier: Applier, e: LogEntry): Promise<Outcome> {
  try {
    const r = await applier.applyEntry(e.entry, e.index);
    return r.kind === 'already-applied' ? r.kind : 'ok';
  } catch (err) {
    return outcomeOf(err);
  }
}

export async function buildReference(log: GeneratedLog): Promise<Reference> {
  const store = new RecordingStore();
  const kek = FileKek.fromBytes(log.kek);
  const applier = await Applier.open(store, { kek, now: FIXED_CLOCK });
  const digest = new StoreDigest();
  const history = new Map<string, [number, string][]>();
  const outcomes: Outcome[] = [''];
  const digests: string[] = [digest.value];
  const writers: number[] = [0];
  let current = 0;
  let wrote = false;
  store.onWrite = (puts) => {
    wrote = true;
    for (const p of puts) {
      const k = hex(p.key);
      const v = hex(p.value);
      digest.put(k, v);
      if (!history.has(k)) history.set(k, []);
      history.get(k)!.push([current, v]);
    }
  };
  for (const e of log.entries) {
    current = Number(e.index);
    wrote = false;
    outcomes.push(await applyOne(applier, e));
    digests.push(digest.value);
    writers.push(writers[writers.length - 1]! + (wrote ? 1 : 0));
  }
  const finalRows = await scanRows(store);
  const replayOutcomes: Outcome[] = [''];
  for (const e of log.entries) replayOutcomes.push(await applyOne(applier, e));
  const afterReplay = await scanRows(store);
  if (JSON.stringify(afterReplay) !== JSON.stringify(finalRows)) throw new Error('reference: replaying the log changed the store');
  await applier.close();
  return { outcomes, digests, history, writers, finalRows, replayOutcomes };
}

async function scanRows(store: RegistryStore): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const e of store.scan(new Uint8Array(0))) out.push([hex(e.key), hex(e.value)]);
  return out;
}

/**
 * Acknowledged entries (1..acked) whose effect is missing from `rows`. Each stored value is dated
 * by the reference entry that wrote it (one key's values never repeat: epochs and the applied
 * index only rise); every acknowledged write of that key dated after the stored version was lost.
 * A value the reference never wrote counts every acknowledged write of its key as lost.
 */
export function lostEntries(ref: Reference, rows: Map<string, string>, acked: number): number[] {
  const lost = new Set<number>();
  for (const [key, versions] of ref.history) {
    const stored = rows.get(key);
    // The stored version: the entry that wrote exactly this value (values of one key never repeat).
    let storedAt = 0;
    if (stored !== undefined) {
      const hit = versions.find(([, v]) => v === stored);
      storedAt = hit ? hit[0] : -1;
    }
    for (const [at] of versions) {
      if (at > acked) break;
      if (storedAt === -1 || at > storedAt) lost.add(at);
    }
  }
  return [...lost].sort((a, b) => a - b);
}
