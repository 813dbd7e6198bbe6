/**
 * Every error keyledger raises is a {@link KeyledgerError} with a stable string `code`.
 * Check codes with {@link hasCode}, never with `instanceof` alone: two copies of core may be
 * loaded in one process (an adapter and the host can resolve different installs).
 *
 * Messages never contain key material (DEKs, KEKs, unwrapped bytes).
 */
export const ErrorCode = {
  /** Halt marker: the entry was not applied and must not be skipped. The host stops applying and does not advance its applied index. The specific reason is in the `cause` chain. */
  ENCRYPTION_APPLY: 'ERR_ENCRYPTION_APPLY',
  /** A bootstrap or rotation arrived but the applier has no KEK. Configure `kek` and restart; the entry changed nothing. */
  KEK_NOT_CONFIGURED: 'ERR_KEK_NOT_CONFIGURED',
  /** A store or adapter was constructed with `null` / `undefined`. Pass an open handle. */
  NIL_STORE: 'ERR_NIL_STORE',
  /** Construction refused: the handle is of the wrong kind, closed, read-only, not durable, or holds a foreign schema. Nothing was opened or changed. */
  UNSUPPORTED_STORE: 'ERR_UNSUPPORTED_STORE',
  /** `open(path, { create: false })` found no keyledger store at the path. Nothing was created or changed there. */
  STORE_NOT_FOUND: 'ERR_STORE_NOT_FOUND',
  /** A store was called after its `close()`. The caller's own lifecycle bug: open a new store. */
  STORE_CLOSED: 'ERR_STORE_CLOSED',
  /** `applyEntry`/`applyEntries` called after the applier's `close()` (calls made before `close()` still run, and `close` waits for them). Not a halt: nothing was applied; the host's lifecycle is wrong — open a new applier. */
  APPLIER_CLOSED: 'ERR_APPLIER_CLOSED',
  /** An encryptor was called after its `close()`. Nothing was encrypted. */
  ENCRYPTOR_CLOSED: 'ERR_ENCRYPTOR_CLOSED',
  /** A function the host supplied misbehaved: the KEK's `unwrap` resolved to something other than a `Uint8Array`, or `now` threw or returned no valid `Date`. Inside a halt; `cause` holds what the callback threw. Fix the callback; the entry changed nothing. */
  HOST_CALLBACK: 'ERR_HOST_CALLBACK',
  /** keyledger broke one of its own invariants (a bug, never the caller's input). Inside a halt; nothing was written. Report it with the message. */
  INTERNAL: 'ERR_INTERNAL',
  /** A caller passed an argument of the wrong type or out of range: `applyEntries(null)`, a list item that is not `{ entry: Uint8Array, index?: bigint }`, an index that is not a bigint in 0..2^64-1, an encoder field out of range. Checked before anything is written; nothing changed, and not a halt: fix the call. `position` says which list item, when there is a list. */
  INVALID_ARGUMENT: 'ERR_INVALID_ARGUMENT',
  /** A key given as a registry key does not have the 27-byte registry shape. */
  REGISTRY_KEY_MALFORMED: 'ERR_REGISTRY_KEY_MALFORMED',
  /** A stored registry row is not exactly 12 bytes. It is never treated as missing: the replica's state is damaged. */
  REGISTRY_VALUE_MALFORMED: 'ERR_REGISTRY_VALUE_MALFORMED',
  /** An entry's bytes do not decode: empty, truncated, a bad length or purpose byte, or trailing bytes. Inside a halt: the log is damaged; restore the entry from a replica's log, never skip it. */
  FSM_WIRE_MALFORMED: 'ERR_FSM_WIRE_MALFORMED',
  /** An entry decodes but breaks an entry rule: equal storage and raft ids, a batch row naming a foreign DEK, a proposer under another DEK, a rotation without a wrapped DEK, a cutover with one or with the wrong purpose, a raft cutover without a non-zero index. Inside a halt: the proposer is broken; fix it, never skip the entry. */
  ENTRY_INVALID: 'ERR_ENTRY_INVALID',
  /** An entry body's version byte is not 0x01. */
  FSM_WIRE_VERSION: 'ERR_FSM_WIRE_VERSION',
  /** A rotation entry names an unknown subtag. */
  FSM_WIRE_SUBTAG: 'ERR_FSM_WIRE_SUBTAG',
  /** A reserved encryption opcode (0x06, 0x07) that this version cannot apply. Upgrade before applying further. */
  UNKNOWN_OPCODE: 'ERR_UNKNOWN_OPCODE',
  /** The opcode is not an encryption opcode: the host owns this entry. Nothing changed. */
  NOT_ENCRYPTION_ENTRY: 'ERR_NOT_ENCRYPTION_ENTRY',
  /** A registration's local epoch is below the slot's last seen epoch: accepting it could reuse a nonce. */
  LOCAL_EPOCH_ROLLBACK: 'ERR_LOCAL_EPOCH_ROLLBACK',
  /** A registration's 16-bit slot is owned by another full node id: both would draw nonces from one space. */
  NODE_ID_COLLISION: 'ERR_NODE_ID_COLLISION',
  /** Keystore: key id 0 is reserved. */
  RESERVED_KEY_ID: 'ERR_RESERVED_KEY_ID',
  /** Keystore: a DEK must be exactly 32 bytes. */
  BAD_KEY_SIZE: 'ERR_BAD_KEY_SIZE',
  /** Keystore: the id is already held with other bytes. */
  KEY_CONFLICT: 'ERR_KEY_CONFLICT',
  /** The KEK cannot unwrap a wrapped DEK (tampered bytes or the wrong KEK). */
  KEK_MISMATCH: 'ERR_KEK_MISMATCH',
  /** The KEK file is not exactly 32 bytes, not a regular file, or readable by group/others. */
  INSECURE_KEK_FILE: 'ERR_INSECURE_KEK_FILE',
  /** The stored encryption state does not decode or fails validation; the message names the rule. */
  STATE_MALFORMED: 'ERR_STATE_MALFORMED',
  /** A rotation arrived before any bootstrap. */
  NOT_BOOTSTRAPPED: 'ERR_NOT_BOOTSTRAPPED',
  /** The backend failed; `cause` holds the backend's own error. Nothing from the failed call is visible. */
  STORE_IO: 'ERR_STORE_IO',
  /** Another `Applier` or process already holds this store; two appliers would interleave writes unserialized. */
  STORE_IN_USE: 'ERR_STORE_IN_USE',
  /** Encrypt before this process's own registration took effect locally. Await `registered(index)` first. */
  WRITER_NOT_REGISTERED: 'ERR_WRITER_NOT_REGISTERED',
  /** This node's local epoch for the DEK is already 0xFFFF: only a rotation of the DEK lets it write again. */
  LOCAL_EPOCH_EXHAUSTED: 'ERR_LOCAL_EPOCH_EXHAUSTED',
  /** The 64-bit write counter of this epoch wrapped: reopen the encryptor to bump the epoch. */
  WRITE_COUNT_EXHAUSTED: 'ERR_WRITE_COUNT_EXHAUSTED',
  /** An envelope's version byte is not 0x01. */
  ENVELOPE_VERSION: 'ERR_ENVELOPE_VERSION',
  /** An envelope is shorter than its 34-byte header and tag. */
  ENVELOPE_SHORT: 'ERR_ENVELOPE_SHORT',
  /** An envelope sets reserved flag bits. */
  ENVELOPE_FLAGS: 'ERR_ENVELOPE_FLAGS',
  /** Authentication failed: the envelope was altered, or the context (AAD) is not the one it was sealed with. */
  INTEGRITY: 'ERR_INTEGRITY',
  /** The envelope names a key id that the keystore does not hold. */
  UNKNOWN_KEY_ID: 'ERR_UNKNOWN_KEY_ID',
  /** `describeRegistryStore` was called outside a vitest run, or vitest cannot be loaded. Run the file with `vitest run`, or call `runConformance`, which needs no test framework. */
  TEST_RUNNER_MISSING: 'ERR_TEST_RUNNER_MISSING',
  /** A store backend broke the store contract (a `_get` returning `null`, a `scan` out of byte order…). A bug in the backend, not in the data: the message says what to return instead. */
  STORE_CONTRACT: 'ERR_STORE_CONTRACT',
  /** An etcd call failed or timed out (`cause` holds the etcd client's error). Nothing was proposed by the failed call; retry once etcd is reachable. */
  ETCD_UNAVAILABLE: 'ERR_ETCD_UNAVAILABLE',
  /** An `EtcdLedger` node's follower stopped at a log entry its applier halted on; `index` is the entry's sequence number and `cause` the halt. The local store is as it was before that entry: fix the cause, then restart the node. */
  LEDGER_HALTED: 'ERR_LEDGER_HALTED',
  /** The log in etcd lacks an entry between this node's applied index and the head, and no snapshot covers it: the log was edited outside keyledger. Nothing is skipped; restore the log or the node from a snapshot. */
  LOG_GAP: 'ERR_LOG_GAP',
  /** A snapshot record or published applied index under the ledger's prefix does not decode. Nothing was restored from it. */
  SNAPSHOT_MALFORMED: 'ERR_SNAPSHOT_MALFORMED',
  /** A proposal lost the race for the log head more times than allowed (other nodes kept appending). Nothing was appended; retry. */
  PROPOSAL_CONFLICT: 'ERR_PROPOSAL_CONFLICT',
  /** An `EtcdLedger` node was called after its `close()`. Nothing was proposed or encrypted. */
  LEDGER_CLOSED: 'ERR_LEDGER_CLOSED',
} as const;

export type KeyledgerErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const knownCodes: ReadonlySet<string> = new Set(Object.values(ErrorCode));

export interface KeyledgerErrorOptions {
  cause?: unknown;
  /** For halts: the raft index of the entry that halted, when the caller gave one. */
  index?: bigint;
  /** For halts inside `applyEntries`: the zero-based position of the entry that halted. */
  position?: number;
  /**
   * For an adapter's `open(path)` refusing the location (`ERR_STORE_NOT_FOUND`, or
   * `ERR_UNSUPPORTED_STORE` for a path that can never hold a store): what it found there, without
   * the path ("nothing there", "a FIFO, not a directory"), for a caller that words its own message.
   */
  found?: string;
}

export class KeyledgerError extends Error {
  readonly code: KeyledgerErrorCode;
  readonly index: bigint | undefined;
  readonly position: number | undefined;
  readonly found: string | undefined;

  constructor(code: KeyledgerErrorCode, message: string, options: KeyledgerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KeyledgerError';
    this.code = code;
    this.index = options.index;
    this.position = options.position;
    this.found = options.found;
  }
}

function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && knownCodes.has(code) ? code : undefined;
}

/**
 * True when `err` or any error in its `cause` chain carries `code`.
 * Works across copies of core because it compares strings, not classes.
 */
export function hasCode(err: unknown, code: KeyledgerErrorCode): boolean {
  const seen = new Set<unknown>();
  let cur: unknown = err;
  while (typeof cur === 'object' && cur !== null && !seen.has(cur)) {
    seen.add(cur);
    if (codeOf(cur) === code) return true;
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
}

/** A halt: the entry was not applied and must not be skipped. `index`/`position` say which entry. */
export type Halt = KeyledgerError & { readonly code: typeof ErrorCode.ENCRYPTION_APPLY };

/** True when `err` is a halt: the host must stop applying and must not advance its applied index. */
export function isHalt(err: unknown): err is Halt {
  return codeOf(err) === ErrorCode.ENCRYPTION_APPLY;
}

/** True for any keyledger error (by code, so it works across copies of core). */
export function isKeyledgerError(err: unknown): err is KeyledgerError {
  return codeOf(err) !== undefined;
}

/** The most specific keyledger code in the chain: the reason behind a halt. */
export function reasonCode(err: unknown): KeyledgerErrorCode | undefined {
  const seen = new Set<unknown>();
  let found: string | undefined;
  let cur: unknown = err;
  while (typeof cur === 'object' && cur !== null && !seen.has(cur)) {
    seen.add(cur);
    const c = codeOf(cur);
    if (c !== undefined) found = c;
    cur = (cur as { cause?: unknown }).cause;
  }
  return found as KeyledgerErrorCode | undefined;
}

/** Wraps a reason as a halt: the entry at `index` was not applied and must not be skipped. */
export function halt(reason: unknown, index?: bigint, position?: number): KeyledgerError {
  const why = reason instanceof Error ? reason.message : String(reason);
  const where = [
    index === undefined ? '' : ` at raft index ${index}`,
    position === undefined ? '' : ` (position ${position} in the group)`,
  ].join('');
  return new KeyledgerError(ErrorCode.ENCRYPTION_APPLY, `entry${where} halted: ${why}`, {
    cause: reason,
    ...(index === undefined ? {} : { index }),
    ...(position === undefined ? {} : { position }),
  });
}

/** ERR_INVALID_ARGUMENT: the caller passed a bad argument; `position` names the list item when there is a list. */
export function invalidArgument(message: string, position?: number): KeyledgerError {
  return new KeyledgerError(ErrorCode.INVALID_ARGUMENT, message, position === undefined ? {} : { position });
}

/** ERR_ENTRY_INVALID: the entry decodes but breaks an entry rule. */
export function entryInvalid(message: string): KeyledgerError {
  return new KeyledgerError(ErrorCode.ENTRY_INVALID, message);
}

/** Wraps a backend failure as ERR_STORE_IO, keeping the backend's own error as `cause`. */
export function storeIo(operation: string, cause: unknown): KeyledgerError {
  if (isKeyledgerError(cause)) return cause;
  const why = cause instanceof Error ? cause.message : String(cause);
  return new KeyledgerError(ErrorCode.STORE_IO, `store ${operation} failed: ${why}`, { cause });
}
