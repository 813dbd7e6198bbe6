// keyledger quickstart: generate a KEK file, bootstrap, register three writers, rotate the
// storage DEK, enable both envelopes, reopen with the same KEK and with another, and export the
// keys.json sidecar. Run from packages/core after `npx tsup`: `node examples/quickstart.mjs`.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Applier,
  ErrorCode,
  FileKek,
  MemoryRegistryStore,
  Purpose,
  RotationSubtag,
  encodeBootstrap,
  encodeRegistration,
  encodeRotation,
  exportSidecar,
  hasCode,
} from '@keyledger/core';

const dir = await mkdtemp(join(tmpdir(), 'keyledger-quickstart-'));
const kekPath = join(dir, 'kek');
const kek = await FileKek.generate(kekPath); // 32 random bytes, mode 0600, never overwrites
// The in-memory store keeps this script self-contained. A replica uses a durable adapter,
// e.g. `await SqliteRegistryStore.open('keyledger.db')` from @keyledger/sqlite.
const store = new MemoryRegistryStore();
const onRaftKeyInstalled = (cutover, dek) => console.log(`raft key ${dek} in effect from index ${cutover}`);
const applier = await Applier.open(store, { kek, onRaftKeyInstalled });

const [a, b, c] = [0x0001_0000_0001n, 0x0001_0000_0002n, 0x0001_0000_0003n]; // full node ids
const wrapNewDek = () => kek.wrap(randomBytes(32));
const rotation = (subtag, dekId, purpose, wrapped, fullNodeId) =>
  encodeRotation({ subtag, dekId, purpose, wrapped, proposer: { dekId, fullNodeId, localEpoch: 1 } });
const log = [
  encodeBootstrap({
    storageDekId: 1,
    storageWrapped: await wrapNewDek(),
    raftDekId: 2,
    raftWrapped: await wrapNewDek(),
    registrations: [],
  }),
  ...[a, b, c].map((fullNodeId) => encodeRegistration({ dekId: 1, fullNodeId, localEpoch: 1 })),
  rotation(RotationSubtag.ROTATE_DEK, 3, Purpose.STORAGE, await wrapNewDek(), a),
  rotation(RotationSubtag.ENABLE_STORAGE_ENVELOPE, 3, Purpose.STORAGE, new Uint8Array(0), b),
  rotation(RotationSubtag.ENABLE_RAFT_ENVELOPE, 2, Purpose.RAFT, new Uint8Array(0), c),
];
for (const [i, entry] of log.entries()) {
  const { kind, effect } = await applier.applyEntry(entry, BigInt(i + 1)); // raft index i + 1
  console.log(`index ${i + 1}: ${kind} ${effect}`);
}
await applier.close(); // zero-fills the keystore and releases the store

const sameKek = await FileKek.open(kekPath); // refuses a file readable by group or others
const reopened = await Applier.open(store, { kek: sameKek });
console.log(`reopened with the same KEK: keystore rebuilt with DEKs ${reopened.keyIds().join(', ')}`);
const sidecar = exportSidecar(reopened.state);
await reopened.close();

const otherKek = await FileKek.generate(join(dir, 'other-kek'));
try {
  await Applier.open(store, { kek: otherKek });
  throw new Error('another KEK must not open this state');
} catch (err) {
  if (!hasCode(err, ErrorCode.KEK_MISMATCH)) throw err;
  console.log(`reopened with another KEK: ${err.code}`);
}
for (const k of [kek, sameKek, otherKek]) k.close(); // zero-fills each held KEK

await writeFile(join(dir, 'keys.json'), sidecar, { mode: 0o600 });
console.log(`keys.json:\n${sidecar}`);
await rm(dir, { recursive: true });
