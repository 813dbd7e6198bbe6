import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Applier, ErrorCode, FileKek, MemoryRegistryStore, hasCode, type RegistryStore } from '@keyledger/core';
import { generateLog } from '../src/log-generator.js';
import { FIXED_CLOCK, outcomeOf } from '../src/reference.js';
import { Rng } from '../src/rng.js';
import { openStore, type StoreName } from '../src/stores.js';
import { rowsOf, tempDirs } from './support.js';

const freshDir = tempDirs('concurrency');
const log = generateLog(77, 10_000);
const options = () => ({ kek: FileKek.fromBytes(log.kek), now: FIXED_CLOCK, onRaftKeyInstalled: () => undefined });

/** The log split into 4 sources (round-robin), merged back in a seeded random interleaving. */
function interleaved(): typeof log.entries {
  const sources = [0, 1, 2, 3].map((s) => log.entries.filter((_, i) => i % 4 === s));
  const rng = new Rng(9);
  const out: typeof log.entries = [];
  while (sources.some((s) => s.length > 0)) {
    const open = sources.filter((s) => s.length > 0);
    out.push(rng.pick(open).shift()!);
  }
  return out;
}

async function serial(store: RegistryStore, entries: typeof log.entries): Promise<string[]> {
  const applier = await Applier.open(store, options());
  const out: string[] = [];
  for (const e of entries) out.push(await applier.applyEntry(e.entry, e.index).then(() => 'ok', outcomeOf));
  await applier.close();
  return out;
}

describe('concurrency', () => {
  it.each(['memory', 'lmdb'] as const)(
    '10,000 applyEntry calls started at once from 4 interleaved sources equal the serial result (%s)',
    async (kind) => {
      const order = interleaved();
      const open = async (): Promise<RegistryStore> =>
        kind === 'memory' ? new MemoryRegistryStore() : openStore(kind as StoreName, freshDir());
      const serialStore = await open();
      const expected = await serial(serialStore, order);
      const store = await open();
      const applier = await Applier.open(store, options());
      // Every call is made before any resolves.
      const calls = order.map((e) => applier.applyEntry(e.entry, e.index).then(() => 'ok', outcomeOf));
      const got = await Promise.all(calls);
      await applier.close();
      expect(got).toEqual(expected);
      expect(await rowsOf(store)).toBe(await rowsOf(serialStore));
      expect(new Set(got).size).toBeGreaterThan(3);
      await store.close();
      await serialStore.close();
    },
  );

  it('a second Applier on a store already held by one is refused with ERR_STORE_IN_USE, and allowed once the first closes', async () => {
    const store = await openStore('sqlite', freshDir());
    const first = await Applier.open(store, options());
    const err = await Applier.open(store, options()).catch((e: unknown) => e);
    expect(hasCode(err, ErrorCode.STORE_IN_USE)).toBe(true);
    await first.close();
    const second = await Applier.open(store, options());
    await second.close();
    await store.close();
  });
});

const here = fileURLToPath(new URL('.', import.meta.url));
const holder = join(here, '..', 'dist', 'bin', 'hold-store.js');

/** Starts a process that opens `store` over `dir` and holds it until killed; resolves once it is open. */
function holdInOtherProcess(store: StoreName, dir: string): Promise<{ stop: () => void }> {
  const child = spawn(process.execPath, [holder, store, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      if (d.includes('holding')) resolve({ stop: () => child.kill('SIGKILL') });
    });
    child.on('exit', (code) => reject(new Error(`holder exited ${code}`)));
  });
}

describe('two processes on one location', () => {
  it.each(['lmdb', 'level', 'sqlite'] as const)(
    '%s: a second process opening a held location is refused with ERR_STORE_IN_USE',
    async (store) => {
      const dir = freshDir();
      const held = await holdInOtherProcess(store, dir);
      try {
        const err = await openStore(store, dir).then(
          async (s) => {
            await s.close();
            return undefined;
          },
          (e: unknown) => e,
        );
        expect(hasCode(err, ErrorCode.STORE_IN_USE), `expected ERR_STORE_IN_USE, got ${String(err)}`).toBe(true);
      } finally {
        held.stop();
      }
    },
  );
});
