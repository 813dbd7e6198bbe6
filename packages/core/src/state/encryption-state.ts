import {
  U16_MAX,
  U32_MAX,
  U64_MAX,
  base64,
  isU,
  malformed,
  readKeyId,
  readObject,
  readU64,
  readUint,
  readWrapped,
  u64ToJson,
} from './state-json-fields.js';

/**
 * The store key the encryption state lives under: ASCII `!encryption|state`. Living in the same
 * store as the registry rows is what lets a state change and the rows it implies commit in one
 * atomic write. Treat it as read-only.
 */
export const STATE_KEY: Uint8Array = new TextEncoder().encode('!encryption|state');

/** What a DEK encrypts: stored values, or the raft log envelope. */
export type KeyPurpose = 'storage' | 'raft';

/** One wrapped DEK as the state records it. */
export interface KeyEntry {
  purpose: KeyPurpose;
  /** The DEK wrapped by the KEK. Ciphertext, yet kept out of every message all the same. */
  wrapped: Uint8Array;
  /** When the key was installed, RFC 3339. Kept as the string it was written as, never reparsed. */
  created: string;
  /** u16; part of every nonce drawn under this key. */
  localEpoch: number;
}

/**
 * The encryption state a replica holds: the active DEK ids, every wrapped DEK, the envelope
 * cutovers and the highest applied raft index. Every replica that applied the same log holds
 * a byte-identical encoding of it.
 */
export interface EncryptionState {
  version: 2;
  /** u64: the highest raft index whose encryption entry has been applied. */
  raftAppliedIndex: bigint;
  /** True once the storage envelope cutover applied; then `active.storage` is non-zero. */
  storageEnvelopeActive: boolean;
  /** u64: the raft index of the storage envelope cutover, 0 before it. */
  storageEnvelopeCutoverIndex: bigint;
  /** u64: the raft index of the raft envelope cutover, 0 before it. */
  raftEnvelopeCutoverIndex: bigint;
  /** u32 ids of the active keys per purpose; 0 means none. */
  active: { storage: number; raft: number };
  /** Every DEK ever installed, old ones included: data written under them must stay readable. */
  keys: ReadonlyMap<number, KeyEntry>;
}

/**
 * The JSON document, field for field as elastickv's `keys.json` sidecar names it. u64 fields
 * are numbers up to `Number.MAX_SAFE_INTEGER` and decimal strings above it, since a JSON number
 * beyond 2^53 loses precision in JavaScript.
 *
 * @internal Shared by this module and `sidecar.ts`; not part of the public API.
 */
export interface StateDocument {
  version: number;
  raft_applied_index: number | string;
  storage_envelope_active: boolean;
  storage_envelope_cutover_index: number | string;
  raft_envelope_cutover_index: number | string;
  active: { storage: number; raft: number };
  keys: Record<string, { purpose: KeyPurpose; wrapped: string; created: string; local_epoch: number }>;
}

export const STATE_VERSION = 2;
const PURPOSES: ReadonlySet<string> = new Set<KeyPurpose>(['storage', 'raft']);

const TOP_FIELDS = [
  'version',
  'raft_applied_index',
  'storage_envelope_active',
  'storage_envelope_cutover_index',
  'raft_envelope_cutover_index',
  'active',
  'keys',
] as const;
/** Fields a version-1 sidecar may lack: they arrived with the envelope cutovers. */
const V1_OPTIONAL_FIELDS: ReadonlySet<string> = new Set([
  'storage_envelope_active',
  'storage_envelope_cutover_index',
  'raft_envelope_cutover_index',
]);
const ACTIVE_FIELDS = ['storage', 'raft'] as const;
const KEY_FIELDS = ['purpose', 'wrapped', 'created', 'local_epoch'] as const;

/** The state of a replica that has applied nothing: version 2, zero indices, no keys. */
export function emptyState(): EncryptionState {
  return {
    version: STATE_VERSION,
    raftAppliedIndex: 0n,
    storageEnvelopeActive: false,
    storageEnvelopeCutoverIndex: 0n,
    raftEnvelopeCutoverIndex: 0n,
    active: { storage: 0, raft: 0 },
    keys: new Map(),
  };
}

function checkU64(field: string, v: unknown): void {
  if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) throw malformed(`${field} must be a bigint in 0..2^64-1`);
}

/**
 * Throws `ERR_STATE_MALFORMED`, naming the broken rule, unless `s` is a state this version may
 * store: every field in range, key ids non-zero u32, purposes known, wrapped bytes non-empty,
 * each active id 0 or a key of that purpose, the two active ids distinct unless both 0, and a
 * storage key active once the storage envelope is.
 */
export function validateState(s: EncryptionState): void {
  if (typeof s !== 'object' || s === null) throw malformed('must be an object');
  if (s.version !== STATE_VERSION) throw malformed(`version must be ${STATE_VERSION}, got ${String(s.version)}`);
  checkU64('raft_applied_index', s.raftAppliedIndex);
  if (typeof s.storageEnvelopeActive !== 'boolean') throw malformed('storage_envelope_active must be a boolean');
  checkU64('storage_envelope_cutover_index', s.storageEnvelopeCutoverIndex);
  checkU64('raft_envelope_cutover_index', s.raftEnvelopeCutoverIndex);
  if (typeof s.active !== 'object' || s.active === null) throw malformed('active must be an object');
  for (const p of ACTIVE_FIELDS) {
    if (!isU(s.active[p], U32_MAX)) throw malformed(`active.${p} must be a u32 key id (0 for none)`);
  }
  if (!(s.keys instanceof Map)) throw malformed('keys must be a Map');
  for (const [id, k] of s.keys) {
    if (!isU(id, U32_MAX) || id === 0) throw malformed(`key id ${String(id)} must be a non-zero u32 (0 is reserved)`);
    if (typeof k !== 'object' || k === null) throw malformed(`keys[${id}] must be an object`);
    if (!PURPOSES.has(k.purpose)) throw malformed(`keys[${id}].purpose must be "storage" or "raft"`);
    if (!(k.wrapped instanceof Uint8Array) || k.wrapped.length === 0) {
      throw malformed(`keys[${id}].wrapped must be non-empty bytes`);
    }
    if (typeof k.created !== 'string') throw malformed(`keys[${id}].created must be a string`);
    if (!isU(k.localEpoch, U16_MAX)) throw malformed(`keys[${id}].local_epoch must be a u16`);
  }
  // A key has one purpose, so equal non-zero ids would also fail the purpose check below; the
  // explicit rule gives the operator the real reason.
  if (s.active.storage !== 0 && s.active.storage === s.active.raft) {
    throw malformed(`active.storage and active.raft must differ unless both are 0 (both are ${s.active.storage})`);
  }
  for (const p of ACTIVE_FIELDS) {
    const id = s.active[p];
    if (id === 0) continue;
    const k = s.keys.get(id);
    // An active id with no key, or with a key of the other purpose, would route the wrong DEK
    // (or none) into that purpose's encryption path after a restart.
    if (k === undefined) throw malformed(`active.${p} ${id} is not in keys`);
    if (k.purpose !== p) throw malformed(`active.${p} ${id} names a key whose purpose is "${k.purpose}"`);
  }
  if (s.storageEnvelopeActive && s.active.storage === 0) {
    throw malformed('storage_envelope_active requires a non-zero active.storage');
  }
}

/**
 * Validates `s` and maps it to its JSON document. Field order is fixed and keys ascend
 * numerically, so equal states map to identical JSON text.
 *
 * @internal Shared with `sidecar.ts`.
 */
export function stateToDocument(s: EncryptionState): StateDocument {
  validateState(s);
  const keys: StateDocument['keys'] = {};
  // Inserted in ascending numeric order. Integer-like property names are enumerated ascending
  // anyway, except "4294967295" (not an array index), which is enumerated after them in
  // insertion order; as the largest possible id it then still comes last.
  for (const id of [...s.keys.keys()].sort((a, b) => a - b)) {
    const k = s.keys.get(id)!;
    keys[String(id)] = { purpose: k.purpose, wrapped: base64(k.wrapped), created: k.created, local_epoch: k.localEpoch };
  }
  return {
    version: STATE_VERSION,
    raft_applied_index: u64ToJson(s.raftAppliedIndex),
    storage_envelope_active: s.storageEnvelopeActive,
    storage_envelope_cutover_index: u64ToJson(s.storageEnvelopeCutoverIndex),
    raft_envelope_cutover_index: u64ToJson(s.raftEnvelopeCutoverIndex),
    active: { storage: s.active.storage, raft: s.active.raft },
    keys,
  };
}

/**
 * Parses and validates a state document. `acceptVersion1` admits elastickv's version-1 sidecar,
 * where the three envelope fields may be absent (they default to false / 0); the result is
 * always version 2.
 *
 * @internal Shared with `sidecar.ts`.
 */
export function stateFromJson(text: string, options: { acceptVersion1: boolean }): EncryptionState {
  if (typeof text !== 'string') throw malformed('input must be JSON text');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    // The parser's message quotes the input around the error, which may include wrapped DEKs:
    // it is left out, and so is the parser error itself.
    throw malformed('not valid JSON');
  }
  const o = readObject(doc, 'document', TOP_FIELDS);
  const version = o.version;
  const v1 = options.acceptVersion1 && version === 1;
  if (version !== STATE_VERSION && !v1) {
    const accepted = options.acceptVersion1 ? `1 or ${STATE_VERSION}` : `${STATE_VERSION}`;
    const got = typeof version === 'number' ? String(version) : typeof version;
    throw malformed(`version must be ${accepted}, got ${got}`);
  }
  for (const f of TOP_FIELDS) {
    if (!Object.hasOwn(o, f) && !(v1 && V1_OPTIONAL_FIELDS.has(f))) throw malformed(`missing field ${f}`);
  }
  // Defaults apply only to absent fields (version 1); an explicit null is malformed.
  const orDefault = (f: string, dflt: unknown): unknown => (Object.hasOwn(o, f) ? o[f] : dflt);
  const envelopeActive = orDefault('storage_envelope_active', false);
  if (typeof envelopeActive !== 'boolean') throw malformed('storage_envelope_active must be a boolean');
  const active = readObject(o.active, 'active', ACTIVE_FIELDS);
  for (const f of ACTIVE_FIELDS) if (!Object.hasOwn(active, f)) throw malformed(`missing field active.${f}`);
  const rawKeys = readObject(o.keys, 'keys');
  // Every valid id is a canonical decimal in 1..2^32-1: all but 2^32-1 are array indices, which
  // Object.keys lists first and ascending, and 2^32-1 is the largest; so once every name has
  // passed readKeyId, this order is ascending and needs no sort.
  const names = Object.keys(rawKeys);
  const ids = names.map(readKeyId);
  const keys = new Map<number, KeyEntry>();
  for (let i = 0; i < names.length; i++) {
    const id = ids[i]!;
    const k = readObject(rawKeys[names[i]!], `keys[${id}]`, KEY_FIELDS);
    for (const f of KEY_FIELDS) if (!Object.hasOwn(k, f)) throw malformed(`missing field keys[${id}].${f}`);
    if (typeof k.purpose !== 'string' || !PURPOSES.has(k.purpose)) {
      throw malformed(`keys[${id}].purpose must be "storage" or "raft"`);
    }
    if (typeof k.created !== 'string') throw malformed(`keys[${id}].created must be a string`);
    const wrapped = readWrapped(k.wrapped, id);
    if (!isU(k.local_epoch, U16_MAX)) throw malformed(`keys[${id}].local_epoch must be a u16`);
    keys.set(id, { purpose: k.purpose as KeyPurpose, wrapped, created: k.created, localEpoch: k.local_epoch });
  }
  const state: EncryptionState = {
    version: STATE_VERSION,
    raftAppliedIndex: readU64(o.raft_applied_index, 'raft_applied_index'),
    storageEnvelopeActive: envelopeActive,
    storageEnvelopeCutoverIndex: readU64(orDefault('storage_envelope_cutover_index', 0), 'storage_envelope_cutover_index'),
    raftEnvelopeCutoverIndex: readU64(orDefault('raft_envelope_cutover_index', 0), 'raft_envelope_cutover_index'),
    active: {
      storage: readUint(active.storage, 'active.storage', U32_MAX, 'u32 key id (0 for none)'),
      raft: readUint(active.raft, 'active.raft', U32_MAX, 'u32 key id (0 for none)'),
    },
    keys,
  };
  validateState(state);
  return state;
}

const utf8 = new TextEncoder();
// fatal: invalid UTF-8 is a damaged record, not text to repair with U+FFFD.
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/**
 * Validates `s` and encodes it as compact UTF-8 JSON. Deterministic: replicas that applied the
 * same log produce byte-identical records. Throws `ERR_STATE_MALFORMED` for an invalid state, so
 * a broken state never reaches the store.
 */
export function encodeState(s: EncryptionState): Uint8Array {
  return utf8.encode(JSON.stringify(stateToDocument(s)));
}

/**
 * Decodes and validates a stored record (version 2 only; version-1 sidecars go through
 * `importSidecar`). Throws `ERR_STATE_MALFORMED` naming the field or rule that failed.
 */
export function decodeState(bytes: Uint8Array): EncryptionState {
  if (!(bytes instanceof Uint8Array)) throw malformed('record must be bytes');
  let text: string;
  try {
    text = utf8Strict.decode(bytes);
  } catch {
    throw malformed('record is not valid UTF-8');
  }
  return stateFromJson(text, { acceptVersion1: false });
}
