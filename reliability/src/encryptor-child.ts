/**
 * The process the Encryptor crash campaign SIGKILLs (docs/design.md, section 'Encryptor'). It is
 * one life of a node and its host: it opens its store and applier, catches up on the replicated
 * log (a file outside the store, as the other replicas' logs are), opens an Encryptor (before or
 * after catching up), proposes its registration by appending it to the log, waits until it is
 * `registered`, then encrypts without end. Every nonce is appended to the nonce log and synced
 * *before* the envelope counts as used; the parent checks that no (DEK, nonce) ever repeats.
 *
 * `naive-unsynced` is the control: a writer that keeps its epoch in a file it bumps without a sync
 * and has no registration gate. Under a power cut its bump is lost and it reissues nonces.
 */
import { closeSync, existsSync, fdatasyncSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Applier, Encryptor, FileKek, NonceFactory, decodeEnvelope, hasCode, ErrorCode, isHalt } from '@keyledger/core';
import { isStoreName, openStore } from './stores.js';

export const NODE_ID = 0x9f3c_21d4_5e10_0a01n;
/** Nonces per life; then the life waits for its kill, so a loaded machine does not grow the nonce log without bound. */
const MAX_NONCES_PER_LIFE = 2000;

async function waitForKill(): Promise<never> {
  for (;;) await new Promise((resolve) => setTimeout(resolve, 1000));
}

/** The replicated log: one hex entry per line, index = line number. */
export function readReplicatedLog(path: string): Uint8Array[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => Uint8Array.from(Buffer.from(l, 'hex')));
}

function appendSynced(path: string, line: string): void {
  const fd = openSync(path, 'a');
  try {
    writeSync(fd, line);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

async function catchUp(applier: Applier, logPath: string): Promise<void> {
  const entries = readReplicatedLog(logPath);
  for (let i = Number(applier.appliedIndex) + 1; i <= entries.length; i++) await applier.applyEntry(entries[i - 1]!, BigInt(i));
}

/** argv: `<this module> <store> <work dir> <open-first 0|1>`; the work dir holds kek, log, nonces and store/. */
export async function main([name, work, openFirstArg]: string[]): Promise<void> {
  if (!name || !work) throw new TypeError('usage: <store> <work dir> <open-first>');
  const nonceLog = openSync(join(work, 'nonces'), 'a');
  const used = (dekId: number, nonce: Uint8Array): void => {
    writeSync(nonceLog, `${dekId} ${Buffer.from(nonce).toString('hex')}\n`);
    fdatasyncSync(nonceLog);
  };
  if (name === 'naive-unsynced') return naive(join(work, 'store'), used);
  if (!isStoreName(name)) throw new TypeError(`unknown store ${name}`);
  const logPath = join(work, 'log');
  const store = await openStore(name, join(work, 'store'));
  const applier = await Applier.open(store, { kek: await FileKek.open(join(work, 'kek')) });
  // Open before catching up only on a bootstrapped store: a host applies the bootstrap first.
  if (openFirstArg !== '1' || applier.state.active.storage === 0) await catchUp(applier, logPath);
  writeSync(1, 'opening\n');
  const enc = await Encryptor.open(applier, { nodeId: NODE_ID, purpose: 'storage' });
  writeSync(1, `open ${enc.dekId} ${enc.epoch}\n`);
  for (;;) {
    appendSynced(logPath, `${Buffer.from(enc.registration()).toString('hex')}\n`);
    const index = BigInt(readReplicatedLog(logPath).length);
    const gate = enc.registered(index);
    gate.catch(() => undefined);
    try {
      await catchUp(applier, logPath);
      await gate;
      break;
    } catch (err) {
      if (isHalt(err) || !hasCode(err, ErrorCode.LOCAL_EPOCH_ROLLBACK)) throw err;
      writeSync(1, `bumped-again ${enc.epoch}\n`);
    }
  }
  writeSync(1, `registered ${enc.dekId} ${enc.epoch}\n`);
  const value = new Uint8Array(64);
  for (let n = 1; n <= MAX_NONCES_PER_LIFE; n++) {
    const sealed = await enc.encrypt(value, value.subarray(0, 8));
    used(enc.dekId, decodeEnvelope(sealed).nonce);
    if (n % 50 === 0) writeSync(1, `n ${n}\n`);
  }
  await waitForKill();
}

/** The control: an epoch file bumped with a plain write (no sync), no registry, no gate. */
async function naive(dir: string, used: (dekId: number, nonce: Uint8Array) => void): Promise<void> {
  const file = join(dir, 'epoch');
  const epoch = (existsSync(file) ? Number(readFileSync(file, 'utf8')) : 0) + 1;
  writeFileSync(file, String(epoch));
  writeSync(1, `open 1 ${epoch}\n`);
  writeSync(1, 'registered 1\n');
  const nonces = new NonceFactory(0x0a01, epoch);
  for (let n = 1; n <= MAX_NONCES_PER_LIFE; n++) {
    used(1, nonces.next());
    if (n % 50 === 0) writeSync(1, `n ${n}\n`);
  }
  await waitForKill();
}
