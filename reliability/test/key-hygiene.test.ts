import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, chownSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  Applier,
  ErrorCode,
  FileKek,
  Keystore,
  MemoryRegistryStore,
  Purpose,
  RotationSubtag,
  STATE_KEY,
  decodeState,
  encodeBootstrap,
  encodeRotation,
  encodeState,
  hasCode,
  isHalt,
  type Kek,
} from '@keyledger/core';
import { errorText, leaks } from '../src/key-hygiene.js';
import { buildSequence } from '../src/sequence.js';
import { rowsOf, tempDirs } from './support.js';

const freshDir = tempDirs('hygiene');
const isRoot = process.geteuid?.() === 0;

/** A KEK that records every DEK buffer it hands out, to check the applier zero-fills them. */
class SpyKek implements Pick<Kek, 'unwrap'> {
  readonly handedOut: Uint8Array[] = [];
  constructor(private readonly inner: FileKek) {}
  async unwrap(w: Uint8Array): Promise<Uint8Array> {
    const dek = await this.inner.unwrap(w);
    this.handedOut.push(dek);
    return dek;
  }
}

describe('key material in memory', () => {
  it('Keystore.close zero-fills the buffers the keys lived in', () => {
    const ks = new Keystore();
    ks.add(1, new Uint8Array(32).fill(7));
    ks.add(2, new Uint8Array(32).fill(9));
    const held = ks._heldBuffersForTesting();
    ks.close();
    for (const b of held) expect(b.every((x) => x === 0)).toBe(true);
  });

  it('the applier zero-fills every DEK the KEK unwrapped for it: on apply, on open (keystore rebuild) and on close', async () => {
    const seq = await buildSequence();
    const spy = new SpyKek(seq.kek);
    const store = new MemoryRegistryStore();
    const applier = await Applier.open(store, { kek: spy, onRaftKeyInstalled: () => undefined });
    for (const step of seq.steps) if ('entry' in step) await applier.applyEntry(step.entry, step.index);
    await applier.close();
    const reopened = await Applier.open(store, { kek: spy });
    await reopened.close();
    expect(spy.handedOut.length).toBeGreaterThanOrEqual(8);
    for (const dek of spy.handedOut)
      expect(
        dek.every((x) => x === 0),
        'an unwrapped DEK was left in memory',
      ).toBe(true);
  });

  it('inspect and JSON of the applier, its state, the KEK and a keystore show no key bytes', async () => {
    const seq = await buildSequence();
    const store = new MemoryRegistryStore();
    const applier = await Applier.open(store, { kek: seq.kek, onRaftKeyInstalled: () => undefined });
    for (const step of seq.steps) if ('entry' in step) await applier.applyEntry(step.entry, step.index);
    const ks = new Keystore();
    ks.add(1, seq.secrets[1]!);
    const texts = [
      inspect(applier, { depth: 8, showHidden: true }),
      inspect(applier.state, { depth: 8 }),
      inspect(seq.kek, { showHidden: true }),
      inspect(ks, { showHidden: true }),
      JSON.stringify(seq.kek),
      String(seq.kek),
    ];
    for (const t of texts) expect(leaks(t, seq.secrets)).toBeUndefined();
    await applier.close();
  });
});

describe('tampered wrapped DEKs', () => {
  it('a bootstrap or rotation carrying a tampered wrapped DEK halts with ERR_KEK_MISMATCH and changes nothing', async () => {
    const seq = await buildSequence();
    const store = new MemoryRegistryStore();
    const applier = await Applier.open(store, { kek: seq.kek, onRaftKeyInstalled: () => undefined });
    const good = await seq.kek.wrap(seq.secrets[1]!);
    for (let i = 0; i < good.length; i += 7) {
      const bad = Uint8Array.from(good, (b, j) => (j === i ? b ^ 0x80 : b));
      const before = await rowsOf(store);
      const err = await applier
        .applyEntry(
          encodeBootstrap({
            storageDekId: 1,
            storageWrapped: bad,
            raftDekId: 2,
            raftWrapped: good,
            registrations: [{ dekId: 1, fullNodeId: 5n, localEpoch: 1 }],
          }),
          3n,
        )
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(isHalt(err) && hasCode(err, ErrorCode.KEK_MISMATCH)).toBe(true);
      expect(leaks(errorText(err), seq.secrets)).toBeUndefined();
      expect(await rowsOf(store)).toBe(before);
      expect(applier.keyIds()).toEqual([]);
    }
    await applier.applyEntry(
      encodeBootstrap({
        storageDekId: 1,
        storageWrapped: good,
        raftDekId: 2,
        raftWrapped: await seq.kek.wrap(seq.secrets[2]!),
        registrations: [],
      }),
      4n,
    );
    const bad = Uint8Array.from(await seq.kek.wrap(seq.secrets[3]!), (b, j) => (j === 59 ? b ^ 1 : b));
    const before = await rowsOf(store);
    const err = await applier
      .applyEntry(
        encodeRotation({
          subtag: RotationSubtag.ROTATE_DEK,
          dekId: 3,
          purpose: Purpose.STORAGE,
          wrapped: bad,
          proposer: { dekId: 3, fullNodeId: 5n, localEpoch: 1 },
        }),
        5n,
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isHalt(err) && hasCode(err, ErrorCode.KEK_MISMATCH)).toBe(true);
    expect(await rowsOf(store)).toBe(before);
    expect(applier.keyIds()).toEqual([1, 2]);
    await applier.close();
  });

  it('a tampered wrapped DEK in the stored state refuses to open with ERR_KEK_MISMATCH', async () => {
    const seq = await buildSequence();
    const store = new MemoryRegistryStore();
    const applier = await Applier.open(store, { kek: seq.kek, onRaftKeyInstalled: () => undefined });
    await applier.applyEntry((seq.steps[0] as { entry: Uint8Array }).entry, 10n);
    await applier.close();
    const state = decodeState((await store.get(STATE_KEY))!);
    const k = state.keys.get(1)!;
    const keys = new Map(state.keys);
    keys.set(1, { ...k, wrapped: Uint8Array.from(k.wrapped, (b, j) => (j === 30 ? b ^ 4 : b)) });
    await store.write([{ key: STATE_KEY, value: encodeState({ ...state, keys }) }]);
    const err = await Applier.open(store, { kek: seq.kek }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(hasCode(err, ErrorCode.KEK_MISMATCH)).toBe(true);
    expect(leaks(errorText(err), seq.secrets)).toBeUndefined();
  });
});

// FileKek's modes, FIFOs, directories, symlinks, sizes and owners are covered in
// packages/core/test/crypto/file-kek.test.ts; these add the cases it does not have.
describe('FileKek.open, beyond the core tests', () => {
  const key = (): Uint8Array => new Uint8Array(32).fill(0x5a);

  it('refuses a Unix socket', async () => {
    const p = join(freshDir(), 'sock');
    const server = createServer();
    await new Promise<void>((r) => server.listen(p, r));
    try {
      expect(hasCode(await FileKek.open(p).catch((e: unknown) => e), ErrorCode.INSECURE_KEK_FILE)).toBe(true);
    } finally {
      server.close();
    }
  });

  it('refuses a dangling symlink and a symlink loop', async () => {
    const d = freshDir();
    symlinkSync(join(d, 'nowhere'), join(d, 'dangling'));
    symlinkSync(join(d, 'b'), join(d, 'a'));
    symlinkSync(join(d, 'a'), join(d, 'b'));
    for (const p of ['dangling', 'a'])
      expect(hasCode(await FileKek.open(join(d, p)).catch((e: unknown) => e), ErrorCode.INSECURE_KEK_FILE)).toBe(true);
  });

  it.skipIf(!isRoot)('refuses a symlink to a secure-looking file owned by another user, for every owner-only mode', async () => {
    const d = freshDir();
    const target = join(d, 'kek');
    writeFileSync(target, key());
    chownSync(target, 4242, 4242);
    symlinkSync(target, join(d, 'link'));
    for (let mode = 0; mode <= 0o700; mode += 0o100) {
      chmodSync(target, mode);
      const err = await FileKek.open(join(d, 'link')).catch((e: unknown) => e);
      expect(hasCode(err, ErrorCode.INSECURE_KEK_FILE), `mode ${mode.toString(8)}`).toBe(true);
    }
  });
});

const cli = fileURLToPath(new URL('../node_modules/@keyledger/cli/dist/bin.js', import.meta.url));

describe('keyledger keygen', () => {
  it.skipIf(!existsSync(cli))('creates the KEK at 0600 under any umask, refuses an existing file, leaves no temporary copy', () => {
    for (const umask of ['000', '022', '077', '777']) {
      const d = freshDir();
      const p = join(d, 'kek.bin');
      const r = spawnSync('sh', ['-c', `umask ${umask} && exec "$0" "$1" keygen "$2"`, process.execPath, cli, p], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(statSync(p).mode & 0o777).toBe(0o600);
      expect(statSync(p).size).toBe(32);
      const before = readFileSync(p);
      expect(leaks(r.stdout + r.stderr, [before])).toBeUndefined();
      const again = spawnSync(process.execPath, [cli, 'keygen', p], { encoding: 'utf8' });
      expect(again.status).not.toBe(0);
      expect(readFileSync(p).equals(before)).toBe(true);
      expect(readdirSync(d)).toEqual(['kek.bin']);
    }
  });

  it.skipIf(!existsSync(cli) || !existsSync('/usr/bin/strace'))('opens the new key file with O_CREAT|O_EXCL and mode 0600 (strace)', () => {
    const d = freshDir();
    const log = join(d, 'trace');
    execFileSync('/usr/bin/strace', ['-f', '-e', 'trace=open,openat', '-o', log, process.execPath, cli, 'keygen', join(d, 'kek.bin')]);
    const opens = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l.includes(d) && l.includes('O_CREAT'));
    expect(opens.length).toBeGreaterThan(0);
    for (const l of opens) {
      expect(l).toContain('O_EXCL');
      expect(l).toMatch(/, 0600\)/);
    }
  });
});
