import { execFileSync } from 'node:child_process';
import { createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileKek, WRAPPED_DEK_LENGTH } from '../../src/crypto/file-kek.js';
import { ErrorCode, hasCode, type KeyledgerErrorCode } from '../../src/errors.js';

const isRoot = process.geteuid?.() === 0;

let dir: string;
/** Every secret a test handled; afterEach checks no provoked error message contains one. */
let secrets: Uint8Array[];
let provoked: unknown[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keyledger-kek-'));
  secrets = [];
  provoked = [];
});

afterEach(async () => {
  for (const err of provoked) expectNoSecrets(err, secrets);
  await rm(dir, { recursive: true, force: true });
});

function messagesOf(err: unknown): string {
  const parts: string[] = [];
  for (let cur = err, i = 0; typeof cur === 'object' && cur !== null && i < 10; cur = (cur as { cause?: unknown }).cause, i++) {
    parts.push(String((cur as Error).message), String(cur), String((cur as Error).stack));
  }
  return parts.join('\n');
}

function expectNoSecrets(err: unknown, keys: Uint8Array[]): void {
  const text = messagesOf(err);
  for (const k of keys) {
    const b = Buffer.from(k);
    for (const form of [b.toString('hex'), b.toString('hex').toUpperCase(), b.toString('base64'), b.toString('base64url')]) {
      expect(text).not.toContain(form);
    }
  }
}

/** Awaits `p`, expects it to reject with `code` anywhere in the cause chain, and records the error. */
async function rejectsWith(p: Promise<unknown>, code: KeyledgerErrorCode): Promise<Error> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected a rejection with ${code}`).toBeDefined();
  expect(hasCode(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
  provoked.push(err);
  return err as Error;
}

function throwsWith(fn: () => unknown, code: KeyledgerErrorCode): Error {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(hasCode(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
  provoked.push(err);
  return err as Error;
}

async function keyFile(name: string, bytes: Uint8Array, mode = 0o600): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, bytes);
  await chmod(p, mode);
  return p;
}

function newKey(): Uint8Array {
  const k = new Uint8Array(randomBytes(32));
  secrets.push(k);
  return k;
}

describe('FileKek.open', () => {
  it('opens a 32-byte regular file with mode 0600 and names it by path', async () => {
    const p = await keyFile('kek', newKey());
    const kek = await FileKek.open(p);
    expect(kek.name).toBe(`file:${p}`);
  });

  it('accepts exactly the 8 of 512 permission modes that have no group or other bits', async () => {
    // As root the kernel does not enforce read permission, so only the mode bits decide; as
    // another user, modes without owner read also fail (to open), with the same code.
    const key = newKey();
    const p = await keyFile('kek', key);
    let accepted = 0;
    for (let mode = 0; mode <= 0o777; mode++) {
      await chmod(p, mode);
      const shouldAccept = (mode & 0o077) === 0 && (isRoot || (mode & 0o400) !== 0);
      if (shouldAccept) {
        await FileKek.open(p);
        accepted++;
      } else {
        const err = await rejectsWith(FileKek.open(p), ErrorCode.INSECURE_KEK_FILE);
        if ((mode & 0o077) !== 0) expect(err.message).toContain('chmod 600');
      }
    }
    expect(accepted).toBe(isRoot ? 8 : 4);
  });

  it('refuses a FIFO without hanging', async () => {
    const p = join(dir, 'fifo');
    execFileSync('mkfifo', ['-m', '600', p]);
    const err = await rejectsWith(FileKek.open(p), ErrorCode.INSECURE_KEK_FILE);
    expect(err.message).toContain('FIFO');
  });

  it('refuses a directory', async () => {
    const p = join(dir, 'd');
    await mkdir(p, { mode: 0o700 });
    const err = await rejectsWith(FileKek.open(p), ErrorCode.INSECURE_KEK_FILE);
    expect(err.message).toContain('directory');
  });

  it('refuses a character device', async () => {
    const err = await rejectsWith(FileKek.open('/dev/null'), ErrorCode.INSECURE_KEK_FILE);
    expect(err.message).toContain('character device');
  });

  it('refuses a symlink to a directory', async () => {
    const target = join(dir, 'd');
    await mkdir(target, { mode: 0o700 });
    await symlink(target, join(dir, 'link'));
    await rejectsWith(FileKek.open(join(dir, 'link')), ErrorCode.INSECURE_KEK_FILE);
  });

  it('refuses a symlink to a FIFO', async () => {
    const target = join(dir, 'fifo');
    execFileSync('mkfifo', ['-m', '600', target]);
    await symlink(target, join(dir, 'link'));
    await rejectsWith(FileKek.open(join(dir, 'link')), ErrorCode.INSECURE_KEK_FILE);
  });

  // Decision: a symlink is judged by its target, the file whose mode and owner protect the key
  // (a symlink's own mode means nothing on Linux). This allows the common secrets-mount layout.
  it('accepts a symlink to a secure 32-byte file', async () => {
    const key = newKey();
    const target = await keyFile('real', key);
    await symlink(target, join(dir, 'link'));
    const viaLink = await FileKek.open(join(dir, 'link'));
    const direct = await FileKek.open(target);
    expect(await direct.unwrap(await viaLink.wrap(key))).toEqual(key);
  });

  it('refuses a symlink to a group-readable file', async () => {
    const target = await keyFile('real', newKey(), 0o640);
    await symlink(target, join(dir, 'link'));
    await rejectsWith(FileKek.open(join(dir, 'link')), ErrorCode.INSECURE_KEK_FILE);
  });

  it.each([0, 1, 31, 33, 64])('refuses a %i-byte file', async (size) => {
    const bytes = new Uint8Array(randomBytes(size));
    // Too short a string to search for without false positives below 16 bytes.
    if (size >= 16) secrets.push(bytes);
    const p = await keyFile('kek', bytes);
    const err = await rejectsWith(FileKek.open(p), ErrorCode.INSECURE_KEK_FILE);
    expect(err.message).toContain(`${size} bytes`);
  });

  it.skipIf(!isRoot)('refuses a file owned by another user', async () => {
    const p = await keyFile('kek', newKey());
    await chown(p, 12345, 12345);
    const err = await rejectsWith(FileKek.open(p), ErrorCode.INSECURE_KEK_FILE);
    expect(err.message).toContain('chown');
  });

  it('refuses a missing file, keeping the OS error as cause', async () => {
    const err = await rejectsWith(FileKek.open(join(dir, 'absent')), ErrorCode.INSECURE_KEK_FILE);
    expect((err.cause as { code?: string }).code).toBe('ENOENT');
  });
});

describe('FileKek.generate', () => {
  it.each([0, 0o022, 0o077, 0o777])('creates a mode-0600 32-byte key under umask %o', async (umask) => {
    const p = join(dir, 'kek');
    const previous = process.umask(umask);
    try {
      const kek = await FileKek.generate(p);
      expect(kek.name).toBe(`file:${p}`);
    } finally {
      process.umask(previous);
    }
    const st = await stat(p);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.size).toBe(32);
  });

  it('writes a key that open() accepts and that unwraps what the generated KEK wrapped', async () => {
    const p = join(dir, 'kek');
    const generated = await FileKek.generate(p);
    secrets.push(new Uint8Array(await readFile(p)));
    const dek = newKey();
    const reopened = await FileKek.open(p);
    expect(await reopened.unwrap(await generated.wrap(dek))).toEqual(dek);
  });

  it('refuses to overwrite an existing file and leaves it unchanged', async () => {
    const key = newKey();
    const p = await keyFile('kek', key);
    const err = await rejectsWith(FileKek.generate(p), ErrorCode.INSECURE_KEK_FILE);
    expect(err.message).toContain('already exists');
    expect(new Uint8Array(await readFile(p))).toEqual(key);
  });

  it('refuses to replace a dangling symlink', async () => {
    await symlink(join(dir, 'nowhere'), join(dir, 'kek'));
    await rejectsWith(FileKek.generate(join(dir, 'kek')), ErrorCode.INSECURE_KEK_FILE);
    expect(await readdir(dir)).toEqual(['kek']);
  });

  it('lets exactly one of two concurrent generates win, never overwriting', async () => {
    const p = join(dir, 'kek');
    const results = await Promise.allSettled([FileKek.generate(p), FileKek.generate(p), FileKek.generate(p)]);
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') {
        expect(hasCode(r.reason, ErrorCode.INSECURE_KEK_FILE)).toBe(true);
        provoked.push(r.reason);
      }
    }
    secrets.push(new Uint8Array(await readFile(p)));
    const dek = newKey();
    const winner = (won[0] as PromiseFulfilledResult<FileKek>).value;
    expect(await (await FileKek.open(p)).unwrap(await winner.wrap(dek))).toEqual(dek);
  });

  it('leaves no temporary file behind', async () => {
    await FileKek.generate(join(dir, 'kek'));
    await rejectsWith(FileKek.generate(join(dir, 'kek')), ErrorCode.INSECURE_KEK_FILE);
    expect(await readdir(dir)).toEqual(['kek']);
  });

  it('refuses a path whose directory does not exist', async () => {
    await rejectsWith(FileKek.generate(join(dir, 'no', 'kek')), ErrorCode.INSECURE_KEK_FILE);
  });
});

describe('FileKek.fromBytes', () => {
  it('copies the key, so the caller may zero its buffer', async () => {
    const key = newKey();
    const kek = FileKek.fromBytes(key);
    const dek = newKey();
    const wrapped = await kek.wrap(dek);
    const copy = new Uint8Array(key);
    key.fill(0);
    expect(await FileKek.fromBytes(copy).unwrap(wrapped)).toEqual(dek);
    expect(kek.name).toBe('memory');
    expect(FileKek.fromBytes(copy, 'env:KEK').name).toBe('env:KEK');
  });

  it.each([0, 16, 31, 33])('refuses a %i-byte key with ERR_BAD_KEY_SIZE', (size) => {
    throwsWith(() => FileKek.fromBytes(new Uint8Array(size)), ErrorCode.BAD_KEY_SIZE);
  });
});

describe('FileKek wrap/unwrap', () => {
  it('round-trips a DEK', async () => {
    const kek = FileKek.fromBytes(newKey());
    const dek = newKey();
    const wrapped = await kek.wrap(dek);
    expect(await kek.unwrap(wrapped)).toEqual(dek);
  });

  it('produces nonce(12) ‖ ciphertext(32) ‖ tag(16), AES-256-GCM without AAD', async () => {
    const key = newKey();
    const dek = newKey();
    const wrapped = await FileKek.fromBytes(key).wrap(dek);
    expect(wrapped).toBeInstanceOf(Uint8Array);
    expect(wrapped.length).toBe(60);
    expect(WRAPPED_DEK_LENGTH).toBe(60);
    // Decrypt independently of FileKek: this pins the layout elastickv reads.
    const d = createDecipheriv('aes-256-gcm', key, wrapped.subarray(0, 12));
    d.setAuthTag(wrapped.subarray(44, 60));
    const plain = Buffer.concat([d.update(wrapped.subarray(12, 44)), d.final()]);
    expect(new Uint8Array(plain)).toEqual(dek);
  });

  it('unwraps a DEK wrapped by an independent AES-256-GCM implementation', async () => {
    const { createCipheriv } = await import('node:crypto');
    const key = newKey();
    const dek = newKey();
    const nonce = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', key, nonce);
    const wrapped = Buffer.concat([nonce, c.update(dek), c.final(), c.getAuthTag()]);
    expect(await FileKek.fromBytes(key).unwrap(wrapped)).toEqual(dek);
  });

  it('uses a fresh nonce for every wrap', async () => {
    const kek = FileKek.fromBytes(newKey());
    const dek = newKey();
    const nonces = new Set<string>();
    const wrappeds = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const w = await kek.wrap(dek);
      nonces.add(Buffer.from(w.subarray(0, 12)).toString('hex'));
      wrappeds.add(Buffer.from(w).toString('hex'));
    }
    expect(nonces.size).toBe(200);
    expect(wrappeds.size).toBe(200);
  });

  it('rejects every single-bit tamper with ERR_KEK_MISMATCH', async () => {
    const kek = FileKek.fromBytes(newKey());
    const wrapped = await kek.wrap(newKey());
    for (let i = 0; i < wrapped.length; i++) {
      const t = new Uint8Array(wrapped);
      t[i]! ^= 0x01;
      const err = await rejectsWith(kek.unwrap(t), ErrorCode.KEK_MISMATCH);
      expect(err.message).not.toContain(Buffer.from(t).toString('base64'));
    }
  });

  it.each([0, 12, 59, 61, 92])('rejects a %i-byte wrapped DEK with ERR_KEK_MISMATCH', async (len) => {
    const kek = FileKek.fromBytes(newKey());
    await rejectsWith(kek.unwrap(new Uint8Array(len)), ErrorCode.KEK_MISMATCH);
  });

  it('rejects a DEK wrapped by another KEK with ERR_KEK_MISMATCH', async () => {
    const wrapped = await FileKek.fromBytes(newKey()).wrap(newKey());
    await rejectsWith(FileKek.fromBytes(newKey()).unwrap(wrapped), ErrorCode.KEK_MISMATCH);
  });

  it.each([0, 16, 31, 33, 60])('refuses to wrap a %i-byte DEK with ERR_BAD_KEY_SIZE', async (size) => {
    await rejectsWith(FileKek.fromBytes(newKey()).wrap(new Uint8Array(size)), ErrorCode.BAD_KEY_SIZE);
  });

  // Decision: a closed KEK behaves as no KEK at all (ERR_KEK_NOT_CONFIGURED); ERR_KEK_MISMATCH
  // would send an operator looking for tampered data.
  it('rejects wrap and unwrap after close with ERR_KEK_NOT_CONFIGURED', async () => {
    const kek = FileKek.fromBytes(newKey());
    const wrapped = await kek.wrap(newKey());
    kek.close();
    kek.close();
    await rejectsWith(kek.wrap(newKey()), ErrorCode.KEK_NOT_CONFIGURED);
    await rejectsWith(kek.unwrap(wrapped), ErrorCode.KEK_NOT_CONFIGURED);
  });

  it('returns an unwrapped DEK the caller owns', async () => {
    const kek = FileKek.fromBytes(newKey());
    const dek = newKey();
    const wrapped = await kek.wrap(dek);
    const a = await kek.unwrap(wrapped);
    a.fill(0);
    expect(await kek.unwrap(wrapped)).toEqual(dek);
  });
});
