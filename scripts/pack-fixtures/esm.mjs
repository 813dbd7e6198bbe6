// ESM consumer: core and every adapter, and the new-user path of the adapters issue:
// open a store on a path, apply a registration, close, reopen, read the row back.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Applier, MemoryRegistryStore, decodeRegistryRow, encodeRegistration, hasCode, isHalt, registryKey } from '@keyledger/core';
import { LevelRegistryStore } from '@keyledger/level';
import { LmdbRegistryStore } from '@keyledger/lmdb';
import { SqliteRegistryStore } from '@keyledger/sqlite';

if (typeof hasCode !== 'function' || typeof isHalt !== 'function' || typeof MemoryRegistryStore !== 'function')
  throw new TypeError('core exports missing');
const dir = mkdtempSync(join(tmpdir(), 'keyledger-pack-'));
const opens = {
  sqlite: () => SqliteRegistryStore.open(join(dir, 'registry.db')),
  lmdb: () => LmdbRegistryStore.open(join(dir, 'lmdb')),
  level: () => LevelRegistryStore.open(join(dir, 'level')),
};
try {
  for (const [name, open] of Object.entries(opens)) {
    const store = await open();
    const applier = await Applier.open(store);
    await applier.applyEntry(encodeRegistration({ dekId: 1, fullNodeId: 0x1234_0001n, localEpoch: 3 }), 1n);
    await applier.close();
    await store.close();
    const again = await open();
    const row = decodeRegistryRow(await again.get(registryKey(1, 0x1234_0001n)));
    await again.close();
    if (row.fullNodeId !== 0x1234_0001n || row.lastSeenEpoch !== 3) throw new TypeError(`${name}: row not read back`);
    console.log(`esm ${name}: registration applied, reopened, row read back (epoch ${row.lastSeenEpoch})`);
  }
} finally {
  // The run's stores go, whatever happened: test:pack runs on every CI run.
  rmSync(dir, { recursive: true, force: true });
}
