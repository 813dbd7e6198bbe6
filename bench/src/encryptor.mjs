// The Encryptor's figures (docs/design.md, section 'Encryptor'): encrypt and decrypt throughput of
// 64 B, 1 KiB and 64 KiB values against raw node:crypto AES-256-GCM with a random nonce, in the same
// rounds, and the time of Encryptor.open (one durable write) on each backend. Medians over rounds.
// Run by main.mjs; `node src/encryptor.mjs [--quick]` runs it alone.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Applier, Encryptor, MemoryRegistryStore } from '@keyledger/core';
import { KEYLEDGER } from './backends.mjs';
import { bootstrap } from './scenarios.mjs';
import { figure, gc, median } from './stats.mjs';
import { dropDir, freshDir } from './tmpdir.mjs';

export const ENCRYPTOR_SIZES = [64, 1024, 65536];
const NODE = 0x9f3c21d45e100a01n;
const CONTEXT = new TextEncoder().encode('bench/record-key');

/** Ops per scenario and round: the same bytes sealed for every size, at least 50 ops. */
const opsFor = (size, cfg) => Math.max(50, Math.round((cfg.encryptorMiBPerRound * 2 ** 20) / size / 4) * 4);

/** A store bootstrapped with fresh keys (recorded for the key-hygiene check), its applier and next index. */
async function bootstrapped(store) {
  const { kek, entry, storageDek } = await bootstrap({ storageDekId: 1, raftDekId: 2 });
  const applier = await Applier.open(store, { kek });
  await applier.applyEntry(entry, 1n);
  return { applier, dek: storageDek, next: 2n };
}

async function registeredEncryptor(ctx) {
  const enc = await Encryptor.open(ctx.applier, { nodeId: NODE, purpose: 'storage' });
  const index = ctx.next++;
  const gate = enc.registered(index);
  await ctx.applier.applyEntry(enc.registration(), index);
  await gate;
  return enc;
}

/** The raw baseline: AES-256-GCM with a random 12-byte nonce, same AAD length, same output layout. */
function rawSeal(dek, plain) {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', dek, nonce);
  c.setAAD(CONTEXT);
  const body = Buffer.concat([c.update(plain), c.final()]);
  return Buffer.concat([nonce, body, c.getAuthTag()]);
}

function rawOpen(dek, sealed) {
  const d = createDecipheriv('aes-256-gcm', dek, sealed.subarray(0, 12));
  d.setAAD(CONTEXT);
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([d.update(sealed.subarray(12, sealed.length - 16)), d.final()]);
}

async function timed(n, fn) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  return n / ((performance.now() - t0) / 1000);
}

/** Throughput per size: keyledger and raw take turns within every round (one warm-up round first). */
async function throughput(cfg, log) {
  const ctx = await bootstrapped(new MemoryRegistryStore());
  const enc = await registeredEncryptor(ctx);
  const out = {};
  for (const size of ENCRYPTOR_SIZES) {
    const n = opsFor(size, cfg);
    const plain = randomBytes(size);
    const sealedK = await enc.encrypt(plain, CONTEXT);
    const sealedR = rawSeal(ctx.dek, plain);
    const s = { encrypt: [], rawEncrypt: [], decrypt: [], rawDecrypt: [] };
    for (let r = -1; r < cfg.groupedRounds; r++) {
      gc();
      const e = await timed(n, () => enc.encrypt(plain, CONTEXT));
      const re = await timed(n, () => rawSeal(ctx.dek, plain));
      const d = await timed(n, () => enc.decrypt(sealedK, CONTEXT));
      const rd = await timed(n, () => rawOpen(ctx.dek, sealedR));
      if (r < 0) continue;
      s.encrypt.push(e);
      s.rawEncrypt.push(re);
      s.decrypt.push(d);
      s.rawDecrypt.push(rd);
    }
    out[size] = {
      encrypt: figure(s.encrypt, 'ops/s'),
      rawEncrypt: figure(s.rawEncrypt, 'ops/s'),
      decrypt: figure(s.decrypt, 'ops/s'),
      rawDecrypt: figure(s.rawDecrypt, 'ops/s'),
      encryptOverRaw: median(s.encrypt) / median(s.rawEncrypt),
      decryptOverRaw: median(s.decrypt) / median(s.rawDecrypt),
    };
    log(
      `encryptor: ${size} B × ${n} per round: encrypt ${(out[size].encryptOverRaw).toFixed(2)}× raw, decrypt ${(out[size].decryptOverRaw).toFixed(2)}× raw`,
    );
  }
  await enc.close();
  await ctx.applier.close();
  return out;
}

/** Encryptor.open (guards + one durable epoch bump) on each backend, on an open applier. */
async function openTimes(cfg, backends, log) {
  const out = {};
  for (const backend of backends) {
    const dir = freshDir(`${backend}-encryptor-open`);
    const { store } = await KEYLEDGER[backend](dir);
    const ctx = await bootstrapped(store);
    const samples = [];
    for (let r = -1; r < cfg.openRounds; r++) {
      gc();
      const t0 = performance.now();
      const enc = await Encryptor.open(ctx.applier, { nodeId: NODE, purpose: 'storage' });
      const ms = performance.now() - t0;
      await enc.close();
      if (r >= 0) samples.push(ms);
    }
    if (ctx.applier.state.keys.get(1).localEpoch !== cfg.openRounds + 1)
      throw new Error('Encryptor.open: the epoch was not bumped once per open');
    out[backend] = figure(samples, 'ms');
    log(`encryptor: Encryptor.open on ${backend}: ${median(samples).toFixed(2)} ms`);
    await ctx.applier.close();
    await store.close();
    dropDir(dir);
  }
  return out;
}

export async function benchEncryptor(cfg, backends, log) {
  return { throughput: await throughput(cfg, log), open: await openTimes(cfg, backends, log) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { FULL, QUICK } = await import('./config.mjs');
  const cfg = process.argv.includes('--quick') ? QUICK : FULL;
  const { BACKENDS } = await import('./backends.mjs');
  const { removeTempRoot } = await import('./tmpdir.mjs');
  try {
    const encryptor = await benchEncryptor(cfg, BACKENDS, (m) => process.stderr.write(`${m}\n`));
    const { encryptorTables } = await import('./report.mjs');
    console.log(encryptorTables({ encryptor }));
  } finally {
    removeTempRoot();
  }
}
