import { constants, type Stats } from 'node:fs';
import { link, open, unlink, lstat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createCipheriv, createDecipheriv, randomBytes, randomFillSync } from 'node:crypto';
import { ErrorCode, KeyledgerError, isKeyledgerError } from '../errors.js';
import type { Kek } from './kek.js';
import { describeFileKind } from '../file-kind.js';

/** A KEK and a DEK are both AES-256 keys. */
const KEY_LENGTH = 32;
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;
/** nonce (12) ‖ ciphertext (32) ‖ tag (16). */
export const WRAPPED_DEK_LENGTH = NONCE_LENGTH + KEY_LENGTH + TAG_LENGTH;

function insecure(message: string, cause?: unknown): KeyledgerError {
  return new KeyledgerError(ErrorCode.INSECURE_KEK_FILE, message, cause === undefined ? {} : { cause });
}

function ioCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'unknown error';
}

/**
 * The rules a KEK file must meet, checked on the opened descriptor so that what is checked is
 * what is read (a path check followed by a separate open could be raced by a rename).
 */
function checkKekFile(path: string, st: Stats): void {
  if (!st.isFile()) {
    throw insecure(`KEK file ${path} is ${describeFileKind(st)}: point it at a regular file of exactly ${KEY_LENGTH} bytes`);
  }
  const euid = process.geteuid?.();
  if (euid !== undefined && st.uid !== euid) {
    throw insecure(
      `KEK file ${path} is owned by uid ${st.uid}, not by this process (euid ${euid}): ` +
        `another user could replace the key; chown it to the user that runs keyledger`,
    );
  }
  if ((st.mode & 0o077) !== 0) {
    const mode = (st.mode & 0o777).toString(8).padStart(3, '0');
    throw insecure(`KEK file ${path} has mode ${mode}, which grants group or other access: run \`chmod 600 ${path}\``);
  }
  if (st.size !== KEY_LENGTH) {
    throw insecure(`KEK file ${path} is ${st.size} bytes, must be exactly ${KEY_LENGTH}: it is not an AES-256 key`);
  }
}

/** Reads the whole file into a buffer one byte larger than a key, so a file that grew after `fstat` is caught. */
async function readKey(fh: FileHandle, path: string): Promise<Uint8Array> {
  const buf = new Uint8Array(KEY_LENGTH + 1);
  try {
    let total = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, total, buf.length - total, total);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total === buf.length) break;
    }
    if (total !== KEY_LENGTH) {
      throw insecure(`KEK file ${path} changed size while being read: must be exactly ${KEY_LENGTH} bytes`);
    }
    return buf.slice(0, KEY_LENGTH);
  } finally {
    buf.fill(0);
  }
}

/**
 * Flushes a directory so a rename or link inside it survives a power loss. Skipping it is a
 * data-loss-class bug for a KEK: the file's data can be on disk while its directory entry is not,
 * so after a crash the key is gone while DEKs wrapped with it are already replicated.
 */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * A KEK held in a local file of exactly 32 raw bytes.
 *
 * Wrapped DEK layout (60 bytes, AES-256-GCM, no AAD), compatible with elastickv:
 *
 * | offset | size | field                        |
 * |--------|------|------------------------------|
 * | 0      | 12   | nonce, fresh random per wrap |
 * | 12     | 32   | ciphertext of the DEK        |
 * | 44     | 16   | GCM tag                      |
 *
 * A random 96-bit nonce is safe here because a KEK wraps few DEKs (one per rotation), far from
 * the 2^32 wraps at which random-nonce collisions become a concern.
 *
 * After {@link FileKek.close}, `wrap` and `unwrap` reject with `ERR_KEK_NOT_CONFIGURED`: a
 * closed KEK is no KEK, and `ERR_KEK_MISMATCH` would wrongly suggest tampered data.
 *
 * @example
 * ```ts
 * const kek = await FileKek.open('/etc/keyledger/kek');
 * const wrapped = await kek.wrap(dek);      // 60 bytes
 * const again = await kek.unwrap(wrapped);  // the same 32 bytes
 * kek.close();
 * ```
 */
export class FileKek implements Kek {
  readonly name: string;
  readonly #key: Uint8Array;
  #closed = false;

  private constructor(key: Uint8Array, name: string) {
    this.#key = key;
    this.name = name;
  }

  /**
   * Opens an existing KEK file. Refused with `ERR_INSECURE_KEK_FILE` (the message names the
   * rule and the fix) unless the file, as opened:
   * - is a regular file: a directory, FIFO, socket or device is refused. A symlink is followed
   *   and judged by its target, because the target's mode and owner are what protect the key;
   * - is owned by the process's effective uid (where `process.geteuid` exists): a file another
   *   user owns can be replaced or re-permissioned by that user;
   * - has no group or other permission bits (`mode & 0o077 === 0`);
   * - is exactly 32 bytes.
   * A file that cannot be opened at all (missing, no permission) is refused with the same code,
   * the OS error as `cause`.
   */
  static async open(path: string): Promise<FileKek> {
    let fh: FileHandle;
    try {
      // O_NONBLOCK so that opening a FIFO with no writer returns at once instead of hanging;
      // the fstat below then refuses it. It has no effect on a regular file. O_NOCTTY so that a
      // path that names a terminal cannot become our controlling terminal.
      fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    } catch (err) {
      throw insecure(`cannot open KEK file ${path} (${ioCode(err)}): check the path and that keyledger's user can read it`, err);
    }
    try {
      checkKekFile(path, await fh.stat());
      return new FileKek(await readKey(fh, path), `file:${path}`);
    } finally {
      await fh.close();
    }
  }

  /**
   * Creates a new KEK file at `path` holding 32 random bytes, mode 0600, and returns it open.
   * Never overwrites: when `path` already exists (even as a dangling symlink) it is refused
   * with `ERR_INSECURE_KEK_FILE`, because replacing a KEK makes every DEK wrapped with it
   * unrecoverable.
   *
   * The key is written to a temporary file in the same directory, fsynced, then hard-linked to
   * `path` (which fails atomically when `path` exists), the temporary name removed and the
   * directory fsynced, so a crash leaves either no key file or a complete one.
   */
  static async generate(path: string): Promise<FileKek> {
    if (await exists(path)) throw insecure(`KEK file ${path} already exists: refusing to overwrite a KEK`);
    const dir = dirname(path);
    const tmp = join(dir, `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
    const key = new Uint8Array(KEY_LENGTH);
    randomFillSync(key);
    try {
      const fh = await open(tmp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600);
      // From here on the temporary name is ours, and must not outlive this call.
      try {
        await writeDurably(fh, key);
        await link(tmp, path);
      } catch (err) {
        if (ioCode(err) === 'EEXIST') throw insecure(`KEK file ${path} already exists: refusing to overwrite a KEK`, err);
        throw err;
      } finally {
        await unlinkTemp(tmp, path);
      }
      try {
        await syncDir(dir);
      } catch (err) {
        throw insecure(
          `KEK file ${path} was written but its directory could not be fsynced (${ioCode(err)}): ` +
            `it may not survive a power loss; use a filesystem that supports directory fsync`,
          err,
        );
      }
    } catch (err) {
      key.fill(0);
      if (isKeyledgerError(err)) throw err;
      throw insecure(`cannot create KEK file ${path} (${ioCode(err)})`, err);
    }
    return new FileKek(key, `file:${path}`);
  }

  /**
   * A KEK over bytes the caller already holds (tests, or a key from another source). The bytes
   * are copied, so the caller may zero its own buffer. `name` must not contain secrets.
   * Throws `ERR_BAD_KEY_SIZE` unless `key` is 32 bytes.
   */
  static fromBytes(key: Uint8Array, name = 'memory'): FileKek {
    if (!(key instanceof Uint8Array) || key.length !== KEY_LENGTH) {
      throw new KeyledgerError(ErrorCode.BAD_KEY_SIZE, `a KEK must be ${KEY_LENGTH} bytes`);
    }
    return new FileKek(new Uint8Array(key), name);
  }

  /** Wraps a 32-byte DEK (`ERR_BAD_KEY_SIZE` otherwise) into 60 bytes: nonce ‖ ciphertext ‖ tag. */
  async wrap(dek: Uint8Array): Promise<Uint8Array> {
    this.#assertOpen();
    if (!(dek instanceof Uint8Array) || dek.length !== KEY_LENGTH) {
      throw new KeyledgerError(ErrorCode.BAD_KEY_SIZE, `a DEK must be ${KEY_LENGTH} bytes`);
    }
    const nonce = randomBytes(NONCE_LENGTH);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce, { authTagLength: TAG_LENGTH });
    const ct = Buffer.concat([cipher.update(dek), cipher.final()]);
    const out = new Uint8Array(WRAPPED_DEK_LENGTH);
    out.set(nonce, 0);
    out.set(ct, NONCE_LENGTH);
    out.set(cipher.getAuthTag(), NONCE_LENGTH + KEY_LENGTH);
    return out;
  }

  /**
   * Recovers the 32-byte DEK. Any failure — a length other than 60, a tag that does not verify
   * (tampered bytes or another KEK) — is `ERR_KEK_MISMATCH`; GCM cannot tell those apart, and
   * the message never carries the bytes.
   */
  async unwrap(wrapped: Uint8Array): Promise<Uint8Array> {
    this.#assertOpen();
    if (!(wrapped instanceof Uint8Array) || wrapped.length !== WRAPPED_DEK_LENGTH) {
      const got = wrapped instanceof Uint8Array ? `${wrapped.length} bytes` : typeof wrapped;
      throw new KeyledgerError(
        ErrorCode.KEK_MISMATCH,
        `${this.name} cannot unwrap: a wrapped DEK is ${WRAPPED_DEK_LENGTH} bytes, got ${got}`,
      );
    }
    let plain: Buffer | undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, wrapped.subarray(0, NONCE_LENGTH), {
        authTagLength: TAG_LENGTH,
      });
      decipher.setAuthTag(wrapped.subarray(NONCE_LENGTH + KEY_LENGTH));
      plain = Buffer.concat([decipher.update(wrapped.subarray(NONCE_LENGTH, NONCE_LENGTH + KEY_LENGTH)), decipher.final()]);
      return new Uint8Array(plain);
    } catch (err) {
      throw new KeyledgerError(
        ErrorCode.KEK_MISMATCH,
        `${this.name} cannot unwrap the DEK: authentication failed (tampered wrapped bytes or another KEK)`,
        { cause: err },
      );
    } finally {
      plain?.fill(0);
    }
  }

  /** Zero-fills the held key. Idempotent; later `wrap`/`unwrap` reject with `ERR_KEK_NOT_CONFIGURED`. */
  close(): void {
    this.#key.fill(0);
    this.#closed = true;
  }

  #assertOpen(): void {
    if (this.#closed) throw new KeyledgerError(ErrorCode.KEK_NOT_CONFIGURED, `${this.name} is closed`);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if (ioCode(err) === 'ENOENT') return false;
    throw insecure(`cannot inspect ${path} (${ioCode(err)})`, err);
  }
}

/** Writes the key at offset 0 with mode exactly 0600 and waits until it is on disk, then closes. */
async function writeDurably(fh: FileHandle, data: Uint8Array): Promise<void> {
  try {
    // The umask applied to open's mode can only narrow it, but an explicit fchmod makes the
    // result exactly 0600 whatever the umask, so `open()` will accept the file it reads back.
    await fh.chmod(0o600);
    let written = 0;
    while (written < data.length) {
      const { bytesWritten } = await fh.write(data, written, data.length - written, written);
      written += bytesWritten;
    }
    // The data must be durable before the link makes the name visible: otherwise a crash can
    // leave `path` naming an empty file, and the key is lost.
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Removes the temporary name. Left behind after a successful link it would be a second copy of
 * the key, so that failure is reported rather than ignored.
 */
async function unlinkTemp(tmp: string, path: string): Promise<void> {
  try {
    await unlink(tmp);
  } catch (err) {
    if (ioCode(err) === 'ENOENT') return;
    throw insecure(`could not remove temporary copy ${tmp} of KEK ${path} (${ioCode(err)}): delete it by hand`, err);
  }
}
