import { createDecipheriv } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { regEntry } from '../../src/conformance/fixtures.js';
import {
  Applier,
  Encryptor,
  ErrorCode,
  MemoryRegistryStore,
  STATE_KEY,
  decodeEnvelope,
  decryptEnvelope,
  decodeRegistration,
  decodeState,
  FileKek,
} from '../../src/index.js';
import { NODE_A, NODE_A_TWIN, NODE_B, backup, bootstrappedLog, rejectsWith, replica } from './support.js';

const text = (s: string) => new TextEncoder().encode(s);

async function storedEpoch(store: MemoryRegistryStore, dekId: number): Promise<number> {
  return decodeState((await store.get(STATE_KEY))!).keys.get(dekId)!.localEpoch;
}

describe('Encryptor.open', () => {
  it('bumps keys[<id>].local_epoch durably before it returns: a fresh applier on the store reads it', async () => {
    const cluster = await bootstrappedLog();
    const { store, applier } = await replica(cluster, NODE_A);
    // The bootstrap named its writers at epoch 1: the carry-over starts the key's local_epoch there.
    expect(await storedEpoch(store, 1)).toBe(1);
    const enc = await Encryptor.open(applier, { nodeId: NODE_A, purpose: 'storage' });
    expect(enc.epoch).toBe(2);
    expect(await storedEpoch(store, 1)).toBe(2);
    await enc.close();
    await applier.close();
    const again = await Applier.open(store, { kek: cluster.kek });
    expect(again.state.keys.get(1)!.localEpoch).toBe(2);
    const enc2 = await Encryptor.open(again, { nodeId: NODE_A, purpose: 'storage' });
    expect(enc2.epoch).toBe(3);
  });

  it('refuses before bootstrap (ERR_NOT_BOOTSTRAPPED) and without a KEK (ERR_KEK_NOT_CONFIGURED), writing nothing', async () => {
    const empty = await Applier.open(new MemoryRegistryStore());
    await rejectsWith(Encryptor.open(empty, { nodeId: NODE_A, purpose: 'storage' }), ErrorCode.NOT_BOOTSTRAPPED);
    const cluster = await bootstrappedLog();
    const { store, applier } = await replica(cluster, NODE_A);
    await applier.close();
    const keyless = await Applier.open(store);
    await rejectsWith(Encryptor.open(keyless, { nodeId: NODE_A, purpose: 'storage' }), ErrorCode.KEK_NOT_CONFIGURED);
    expect(await storedEpoch(store, 1)).toBe(1);
  });

  it('refuses a slot owned by another full node id (ERR_NODE_ID_COLLISION)', async () => {
    const cluster = await bootstrappedLog();
    const { store, applier } = await replica(cluster, NODE_A_TWIN);
    await rejectsWith(Encryptor.open(applier, { nodeId: NODE_A_TWIN, purpose: 'storage' }), ErrorCode.NODE_ID_COLLISION);
    expect(await storedEpoch(store, 1)).toBe(1);
  });

  it('refuses a state restored behind its registry (ERR_LOCAL_EPOCH_ROLLBACK), writing nothing', async () => {
    const cluster = await bootstrappedLog();
    const a = await replica(cluster, NODE_A);
    const oldState = (await a.store.get(STATE_KEY))!;
    const enc = await Encryptor.open(a.applier, { nodeId: NODE_A, purpose: 'storage' });
    await cluster.log.register(a.applier, enc);
    await enc.close();
    await a.applier.close();
    // An old state record imported over a newer registry (an old keys.json, say).
    await a.store.write([{ key: STATE_KEY, value: oldState }]);
    const reopened = await Applier.open(a.store, { kek: cluster.kek });
    await rejectsWith(Encryptor.open(reopened, { nodeId: NODE_A, purpose: 'storage' }), ErrorCode.LOCAL_EPOCH_ROLLBACK);
    expect(await storedEpoch(a.store, 1)).toBe(1);
    cluster.log.propose(regEntry(1, NODE_B, 0xffff));
    const b = await replica(cluster, NODE_B);
    await rejectsWith(Encryptor.open(b.applier, { nodeId: NODE_B, purpose: 'storage' }), ErrorCode.LOCAL_EPOCH_ROLLBACK);
  });

  it('refuses at 0xFFFF with ERR_LOCAL_EPOCH_EXHAUSTED', async () => {
    const cluster = await bootstrappedLog({ registrations: [{ dekId: 1, fullNodeId: NODE_A, localEpoch: 0xffff }] });
    const { applier } = await replica(cluster, NODE_A);
    await rejectsWith(Encryptor.open(applier, { nodeId: NODE_A, purpose: 'storage' }), ErrorCode.LOCAL_EPOCH_EXHAUSTED);
  });

  it('rejects bad arguments with ERR_INVALID_ARGUMENT', async () => {
    const cluster = await bootstrappedLog();
    const { applier } = await replica(cluster, NODE_A);
    await rejectsWith(Encryptor.open({} as Applier, { nodeId: NODE_A, purpose: 'storage' }), ErrorCode.INVALID_ARGUMENT);
    await rejectsWith(Encryptor.open(applier, { nodeId: 1 as unknown as bigint, purpose: 'storage' }), ErrorCode.INVALID_ARGUMENT);
    await rejectsWith(Encryptor.open(applier, { nodeId: NODE_A, purpose: 'disk' as 'storage' }), ErrorCode.INVALID_ARGUMENT);
  });
});

describe('registration gate', () => {
  it('from "bootstrap names the first writers" to "those writers encrypt"', async () => {
    const cluster = await bootstrappedLog();
    const a = await replica(cluster, NODE_A);
    const enc = await Encryptor.open(a.applier, { nodeId: NODE_A, purpose: 'storage' });
    await rejectsWith(enc.encrypt(text('v'), text('k')), ErrorCode.WRITER_NOT_REGISTERED);
    const entry = enc.registration();
    expect(decodeRegistration(entry)).toEqual({ dekId: 1, fullNodeId: NODE_A, localEpoch: 2 });
    const index = cluster.log.propose(entry);
    const gate = enc.registered(index);
    await cluster.log.catchUp(a.applier);
    await gate;
    const sealed = await enc.encrypt(text('value'), text('key'));
    const env = decodeEnvelope(sealed);
    expect([...env.nonce]).toEqual([0x0a, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(new TextDecoder().decode(await enc.decrypt(sealed, text('key')))).toBe('value');
    // Another replica holding the same DEK decrypts it; a moved value does not.
    const b = await replica(cluster, NODE_B);
    const encB = await Encryptor.open(b.applier, { nodeId: NODE_B, purpose: 'storage' });
    expect(new TextDecoder().decode(await encB.decrypt(sealed, text('key')))).toBe('value');
    // A reader needs no Encryptor (and bumps no epoch): decryptEnvelope with the applier's keys.
    const epochB = b.applier.state.keys.get(1)!.localEpoch;
    expect(new TextDecoder().decode(await decryptEnvelope(b.applier, sealed, { context: text('key') }))).toBe('value');
    expect(b.applier.state.keys.get(1)!.localEpoch).toBe(epochB);
    await rejectsWith(encB.decrypt(sealed, text('other key')), ErrorCode.INTEGRITY);
  });

  it('registered resolves when the entry applied before the call', async () => {
    const cluster = await bootstrappedLog();
    const a = await replica(cluster, NODE_A);
    const enc = await Encryptor.open(a.applier, { nodeId: NODE_A, purpose: 'storage' });
    await cluster.log.register(a.applier, enc);
    expect(enc.isRegistered).toBe(true);
  });

  it('the heart of the issue: a restored node re-applies its old registration, its proposal replays; neither opens the gate, and it bumps again', async () => {
    const cluster = await bootstrappedLog();
    const a = await replica(cluster, NODE_A);
    const old = await backup(a.store); // local_epoch 1, row last 1
    const first = await Encryptor.open(a.applier, { nodeId: NODE_A, purpose: 'storage' });
    const i1 = cluster.log.propose(first.registration());
    await cluster.log.catchUp(a.applier);
    await first.registered(i1);
    const usedNonce = decodeEnvelope(await first.encrypt(text('x'), text('k'))).nonce;
    await first.close();
    await a.applier.close();
    // Disk restored from the backup: state and registry rolled back together; the guard passes.
    const restored = await Applier.open(old, { kek: cluster.kek });
    const second = await Encryptor.open(restored, { nodeId: NODE_A, purpose: 'storage' });
    expect(second.epoch).toBe(2); // the epoch its previous life used
    const i2 = cluster.log.propose(second.registration());
    const gate = second.registered(i2);
    // Catch-up: index i1 re-applies the old registration (inserted/advanced at epoch 2, not ours), i2 replays.
    await cluster.log.catchUp(restored);
    const err = await rejectsWith(gate, ErrorCode.LOCAL_EPOCH_ROLLBACK);
    expect(String(err)).toContain('replay');
    await rejectsWith(second.encrypt(text('y'), text('k')), ErrorCode.WRITER_NOT_REGISTERED);
    // It bumped again before rejecting: a fresh epoch, in the store.
    expect(second.epoch).toBe(3);
    expect(await storedEpoch(old, 1)).toBe(3);
    const i3 = cluster.log.propose(second.registration());
    await cluster.log.catchUp(restored);
    await second.registered(i3);
    const fresh = decodeEnvelope(await second.encrypt(text('y'), text('k'))).nonce;
    expect(Buffer.from(fresh.subarray(0, 4)).equals(Buffer.from(usedNonce.subarray(0, 4)))).toBe(false);
  });

  it('an index applied before the epoch was bumped does not open the gate (ERR_LOCAL_EPOCH_ROLLBACK, bumps again)', async () => {
    const cluster = await bootstrappedLog();
    const a = await replica(cluster, NODE_A);
    const enc = await Encryptor.open(a.applier, { nodeId: NODE_A, purpose: 'storage' });
    await rejectsWith(enc.registered(1n), ErrorCode.LOCAL_EPOCH_ROLLBACK);
    expect(enc.epoch).toBe(3);
  });

  it('a lower-epoch registration halts; registered rejects with ERR_LOCAL_EPOCH_ROLLBACK and bumps past the registry', async () => {
    const cluster = await bootstrappedLog();
    const a = await replica(cluster, NODE_A);
    const old = await backup(a.store);
    cluster.log.propose(regEntry(1, NODE_A, 7)); // an earlier life registered epoch 7
    await a.applier.close();
    const restored = await Applier.open(old, { kek: cluster.kek });
    const enc = await Encryptor.open(restored, { nodeId: NODE_A, purpose: 'storage' });
    const index = cluster.log.propose(enc.registration());
    const gate = enc.registered(index);
    await expect(cluster.log.catchUp(restored)).rejects.toThrow();
    await rejectsWith(gate, ErrorCode.LOCAL_EPOCH_ROLLBACK);
    expect(enc.epoch).toBe(8);
  });

  it('a re-delivered (already-applied) entry at the index does not open the gate', async () => {
    const cluster = await bootstrappedLog();
    const a = await replica(cluster, NODE_A);
    const enc = await Encryptor.open(a.applier, { nodeId: NODE_A, purpose: 'storage' });
    const entry = enc.registration();
    const other = cluster.log.propose(regEntry(1, NODE_B, 5));
    await cluster.log.catchUp(a.applier);
    await expect(a.applier.applyEntry(entry, other)).resolves.toMatchObject({ kind: 'already-applied' });
    await rejectsWith(enc.registered(other), ErrorCode.LOCAL_EPOCH_ROLLBACK);
    expect(enc.epoch).toBe(3);
  });

  it('an entry at the index that is not this registration: ERR_WRITER_NOT_REGISTERED', async () => {
    const cluster = await bootstrappedLog();
    const a = await replica(cluster, NODE_A);
    const enc = await Encryptor.open(a.applier, { nodeId: NODE_A, purpose: 'storage' });
    const other = cluster.log.propose(regEntry(1, NODE_B, 5));
    await cluster.log.catchUp(a.applier);
    await rejectsWith(enc.registered(other), ErrorCode.WRITER_NOT_REGISTERED);
    await rejectsWith(enc.registered(0n), ErrorCode.INVALID_ARGUMENT);
  });

  it('a rotation closes the gate until the node bumped for the new DEK and registered it', async () => {
    const cluster = await bootstrappedLog();
    const a = await replica(cluster, NODE_A);
    const enc = await Encryptor.open(a.applier, { nodeId: NODE_A, purpose: 'storage' });
    await cluster.log.register(a.applier, enc);
    const before = await enc.encrypt(text('old'), text('k'));
    const wrapped = await cluster.kek.wrap(new Uint8Array(32).fill(9));
    cluster.log.rotateDek(3, wrapped, NODE_B, 4);
    await cluster.log.catchUp(a.applier);
    await rejectsWith(enc.encrypt(text('v'), text('k')), ErrorCode.WRITER_NOT_REGISTERED);
    await enc.ready();
    expect(enc.dekId).toBe(3);
    // The rotation named NODE_B at epoch 4: the key starts there, and NODE_A bumps past it.
    expect(enc.epoch).toBe(5);
    expect(await storedEpoch(a.store, 3)).toBe(5);
    await cluster.log.register(a.applier, enc);
    const after = decodeEnvelope(await enc.encrypt(text('new'), text('k')));
    expect(after.keyId).toBe(3);
    // Old values stay readable.
    expect(new TextDecoder().decode(await enc.decrypt(before, text('k')))).toBe('old');
  });

  it('a rotation proposer opens after a restart without a rollback refusal (carry-over: the key starts at the named epoch)', async () => {
    const cluster = await bootstrappedLog();
    const wrapped = await cluster.kek.wrap(new Uint8Array(32).fill(7));
    cluster.log.rotateDek(3, wrapped, NODE_A, 9);
    const a = await replica(cluster, NODE_A);
    const enc = await Encryptor.open(a.applier, { nodeId: NODE_A, purpose: 'storage' });
    expect([enc.dekId, enc.epoch]).toEqual([3, 10]);
  });
});

describe('encrypt and decrypt', () => {
  async function registered(purpose: 'storage' | 'raft', compress = false) {
    const cluster = await bootstrappedLog();
    const a = await replica(cluster, NODE_A);
    const enc = await Encryptor.open(a.applier, { nodeId: NODE_A, purpose, compress });
    await cluster.log.register(a.applier, enc);
    return { cluster, a, enc };
  }

  it('an envelope opens with plain node:crypto given the layout and the storage AAD', async () => {
    const { cluster, enc } = await registered('storage');
    const sealed = await enc.encrypt(text('hello'), text('ctx'));
    const dek = await cluster.kek.unwrap(cluster.bootstrap.storageWrapped);
    const d = createDecipheriv('aes-256-gcm', dek, sealed.subarray(6, 18));
    d.setAAD(Buffer.concat([sealed.subarray(0, 6), text('ctx')]));
    d.setAuthTag(sealed.subarray(sealed.length - 16));
    expect(Buffer.concat([d.update(sealed.subarray(18, sealed.length - 16)), d.final()]).toString()).toBe('hello');
    expect(sealed.length).toBe(5 + 34);
  });

  it('raft envelopes use "R" ‖ 0x01 ‖ key_id and take no context', async () => {
    const { cluster, a, enc } = await registered('raft');
    const sealed = await enc.encrypt(text('entry'));
    const dek = await cluster.kek.unwrap(cluster.bootstrap.raftWrapped);
    const d = createDecipheriv('aes-256-gcm', dek, sealed.subarray(6, 18));
    d.setAAD(Buffer.from([0x52, 0x01, 0, 0, 0, 2]));
    d.setAuthTag(sealed.subarray(sealed.length - 16));
    expect(Buffer.concat([d.update(sealed.subarray(18, sealed.length - 16)), d.final()]).toString()).toBe('entry');
    await rejectsWith(enc.encrypt(text('x'), text('ctx')), ErrorCode.INVALID_ARGUMENT);
    await rejectsWith(enc.decrypt(sealed, text('ctx')), ErrorCode.INVALID_ARGUMENT);
    // The reader without an Encryptor keeps the same rule.
    expect(new TextDecoder().decode(await decryptEnvelope(a.applier, sealed, { purpose: 'raft' }))).toBe('entry');
    await rejectsWith(decryptEnvelope(a.applier, sealed, { purpose: 'raft', context: text('ctx') }), ErrorCode.INVALID_ARGUMENT);
    const flipped = new Uint8Array(sealed);
    flipped[1] = 1;
    await rejectsWith(enc.decrypt(flipped), ErrorCode.ENVELOPE_FLAGS);
  });

  it('compresses when asked and it pays; tampering, unknown ids, closed encryptors are refused with their codes', async () => {
    const { enc } = await registered('storage', true);
    const big = text('abc'.repeat(1000));
    const sealed = await enc.encrypt(big, text('k'));
    expect(sealed[1]).toBe(1);
    expect(sealed.length).toBeLessThan(big.length);
    expect(await enc.decrypt(sealed, text('k'))).toEqual(big);
    const tampered = new Uint8Array(sealed);
    tampered[20]! ^= 1;
    await rejectsWith(enc.decrypt(tampered, text('k')), ErrorCode.INTEGRITY);
    const unknown = new Uint8Array(sealed);
    unknown[5] = 99;
    await rejectsWith(enc.decrypt(unknown, text('k')), ErrorCode.UNKNOWN_KEY_ID);
    await rejectsWith(enc.decrypt(sealed.subarray(0, 20), text('k')), ErrorCode.ENVELOPE_SHORT);
    await enc.close();
    await rejectsWith(enc.encrypt(big, text('k')), ErrorCode.ENCRYPTOR_CLOSED);
    await rejectsWith(enc.decrypt(sealed, text('k')), ErrorCode.ENCRYPTOR_CLOSED);
    await rejectsWith(enc.registered(5n), ErrorCode.ENCRYPTOR_CLOSED);
  });

  it('no key bytes in any error message', async () => {
    const { cluster, enc } = await registered('storage');
    const dek = Buffer.from(await cluster.kek.unwrap(cluster.bootstrap.storageWrapped));
    const sealed = await enc.encrypt(text('v'), text('k'));
    const errors: unknown[] = [];
    for (const p of [enc.decrypt(sealed, text('x')), enc.decrypt(sealed.subarray(1), text('k')), enc.registered(1n)]) {
      errors.push(await p.catch((e: unknown) => e));
    }
    errors.push(inspect(enc, { depth: 10, showHidden: true }));
    for (const e of errors) {
      const s = `${String(e)} ${JSON.stringify(e, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`;
      for (const enc of ['hex', 'base64'] as const) expect(s).not.toContain(dek.toString(enc));
    }
    void FileKek;
  });
});
