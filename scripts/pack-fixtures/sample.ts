import { Applier, type ApplyResult, type RegistryStore, encodeRegistration, hasCode, ErrorCode } from '@keyledger/core';
import { runConformance, type ConformanceReport } from '@keyledger/core/conformance';
import { SqliteRegistryStore } from '@keyledger/sqlite';
import { LmdbRegistryStore } from '@keyledger/lmdb';
import { LevelRegistryStore } from '@keyledger/level';

export async function apply(path: string): Promise<ApplyResult> {
  const store: RegistryStore = await SqliteRegistryStore.open(path);
  const applier = await Applier.open(store);
  try {
    return await applier.applyEntry(encodeRegistration({ dekId: 1, fullNodeId: 7n, localEpoch: 1 }), 1n);
  } catch (err) {
    if (hasCode(err, ErrorCode.LOCAL_EPOCH_ROLLBACK)) throw err;
    throw err;
  }
}

export const report: (dir: string) => Promise<ConformanceReport> = (dir) => runConformance({ open: () => LmdbRegistryStore.open(dir) });
export const level: typeof LevelRegistryStore.open = LevelRegistryStore.open;
