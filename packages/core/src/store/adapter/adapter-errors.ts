import { ErrorCode, KeyledgerError, type KeyledgerErrorCode } from '../../errors.js';

/** The `typeof` a field of a third-party handle must have for an adapter to call it. */
export type HandleMemberKind = 'object' | 'function' | 'string' | 'boolean';

/**
 * One reason a handle cannot hold a keyledger store. Returns the reason (a phrase such as "the
 * database is read-only") when it applies to `handle`, `undefined` when it does not.
 */
export type HandleRule<H> = (handle: H) => string | undefined;

/**
 * The errors an adapter raises before it reads or writes a row: a handle or a location it refuses,
 * a location that holds no store, a store another process holds. Every message starts with the
 * adapter's name and ends with what to do instead, so an operator can act on it without the docs.
 *
 * @example
 * const errors = new AdapterErrors('SqliteRegistryStore', 'pass an open better-sqlite3 Database');
 * const db = errors.checkHandle<SqliteDatabase>(handle, { prepare: 'function' }, 'a better-sqlite3 Database', [
 *   (d) => (d.readonly ? 'the database is read-only' : undefined),
 * ]);
 */
export class AdapterErrors {
  /**
   * @param adapter the adapter's class name, which starts every message.
   * @param passInstead what the caller should pass instead of a refused handle.
   */
  constructor(
    readonly adapter: string,
    readonly passInstead: string,
  ) {}

  /** `ERR_UNSUPPORTED_STORE` for a handle or location of the wrong kind: `what` went wrong, then what to pass instead. */
  unsupported(what: string, cause?: unknown): KeyledgerError {
    return this.#error(ErrorCode.UNSUPPORTED_STORE, `${what}; ${this.passInstead}`, cause);
  }

  /**
   * `ERR_UNSUPPORTED_STORE` for a foreign schema: the location holds a table or database under
   * keyledger's name that keyledger did not make. `remedy` says what the operator can do about it.
   */
  foreign(what: string, remedy: string, cause?: unknown): KeyledgerError {
    return this.#error(ErrorCode.UNSUPPORTED_STORE, `${what}; it was not made by keyledger: ${remedy}`, cause);
  }

  /**
   * `ERR_UNSUPPORTED_STORE` for an `open` path that can never hold a store, whatever `create`
   * says: `found` is what is there ("a FIFO, not a directory"), also kept as the error's `found`.
   */
  wrongLocation(path: string, found: string, cause?: unknown): KeyledgerError {
    return this.#error(ErrorCode.UNSUPPORTED_STORE, `${JSON.stringify(path)} is ${found}; ${this.passInstead}`, cause, found);
  }

  /**
   * `ERR_STORE_NOT_FOUND`: `open(path, { create: false })` found no keyledger store at `path`;
   * `found` is what it found instead ("an empty directory"), also kept as the error's `found`.
   */
  notFound(path: string, found: string): KeyledgerError {
    return this.#error(
      ErrorCode.STORE_NOT_FOUND,
      `no keyledger store at ${JSON.stringify(path)} (${found}); nothing was created or changed there: open it with create: true to make one`,
      undefined,
      found,
    );
  }

  /** `ERR_STORE_IN_USE`: another process or store already applies to the store at `path`. */
  inUse(path: string, cause?: unknown): KeyledgerError {
    return this.#error(
      ErrorCode.STORE_IN_USE,
      `${JSON.stringify(path)} is held by another process or store; two appliers would interleave their writes: close the other one first`,
      cause,
    );
  }

  /** `ERR_STORE_IO`: the backend or the file system failed while the store was being opened. */
  io(what: string, cause?: unknown): KeyledgerError {
    return this.#error(ErrorCode.STORE_IO, what, cause);
  }

  /**
   * Checks that `handle` is what the adapter can drive: not `null`/`undefined` (`ERR_NIL_STORE`),
   * an object whose `members` have the listed kinds, and that no rule applies to it (each rule in
   * order; the first that applies refuses with `ERR_UNSUPPORTED_STORE`). The rules recognise a
   * handle by its properties (a read-only flag, a `memory` flag, a manifest), never by its class
   * name, so a subclass or a second copy of the library is judged the same way.
   *
   * @param describe what the handle should be, e.g. "an lmdb root database".
   */
  checkHandle<H>(
    handle: unknown,
    members: Readonly<Record<string, HandleMemberKind>>,
    describe: string,
    rules: readonly HandleRule<H>[],
  ): H {
    if (handle === null || handle === undefined) {
      throw this.#error(ErrorCode.NIL_STORE, `no database given; ${this.passInstead}`);
    }
    const missing = Object.entries(members).filter(([name, kind]) => typeof (handle as Record<string, unknown>)[name] !== kind);
    if (typeof handle !== 'object' || missing.length > 0) {
      const names = Object.keys(members).join(', ');
      throw this.unsupported(`the handle is not ${describe} (it lacks one of ${names})`);
    }
    for (const rule of rules) {
      const why = rule(handle as H);
      if (why !== undefined) throw this.unsupported(why);
    }
    return handle as H;
  }

  #error(code: KeyledgerErrorCode, what: string, cause?: unknown, found?: string): KeyledgerError {
    return new KeyledgerError(code, `${this.adapter}: ${what}`, {
      ...(cause === undefined ? {} : { cause }),
      ...(found === undefined ? {} : { found }),
    });
  }
}
