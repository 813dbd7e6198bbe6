import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, hasCode } from '../../src/errors.js';
import {
  STATE_KEY,
  decodeState,
  emptyState,
  encodeState,
  validateState,
  type EncryptionState,
  type KeyEntry,
} from '../../src/state/encryption-state.js';
import { validState } from './arbitraries.js';

const WRAPPED_1 = new Uint8Array(60).fill(0xa1);
const WRAPPED_2 = new Uint8Array(60).fill(0xb2);
const B64_1 = Buffer.from(WRAPPED_1).toString('base64');
const B64_2 = Buffer.from(WRAPPED_2).toString('base64');

function entry(purpose: KeyEntry['purpose'], wrapped: Uint8Array, localEpoch = 0): KeyEntry {
  return { purpose, wrapped, created: '2024-05-01T12:00:00Z', localEpoch };
}

/** A bootstrapped state: storage key 1, raft key 2. */
function sample(): EncryptionState {
  return {
    version: 2,
    raftAppliedIndex: 42n,
    storageEnvelopeActive: true,
    storageEnvelopeCutoverIndex: 40n,
    raftEnvelopeCutoverIndex: 0n,
    active: { storage: 1, raft: 2 },
    keys: new Map([
      [1, entry('storage', WRAPPED_1)],
      [2, entry('raft', WRAPPED_2, 3)],
    ]),
  };
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

// biome-ignore lint/suspicious/noExplicitAny: the tests below put values of the wrong type into a state or a document on purpose.
type TamperableState = any;
type TamperableDoc = Record<string, TamperableState>;

/** The sample's document as plain JSON, for tests that break one field. */
function sampleDoc(): TamperableDoc {
  return JSON.parse(text(encodeState(sample())));
}

function decodeDoc(doc: unknown): EncryptionState {
  return decodeState(utf8(JSON.stringify(doc)));
}

function expectMalformed(fn: () => unknown, mentions: string | RegExp): Error {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(hasCode(err, ErrorCode.STATE_MALFORMED), `expected ERR_STATE_MALFORMED, got ${String(err)}`).toBe(true);
  const message = (err as Error).message;
  if (typeof mentions === 'string') expect(message).toContain(mentions);
  else expect(message).toMatch(mentions);
  // Wrapped DEKs are ciphertext, yet kept out of messages all the same.
  expect(message).not.toContain(B64_1);
  expect(message).not.toContain(B64_2);
  return err as Error;
}

/** Applies `edit` to the sample document and expects decodeState to reject it, naming `mentions`. */
function rejectsDoc(edit: (d: TamperableDoc) => void, mentions: string | RegExp): void {
  const d = sampleDoc();
  edit(d);
  expectMalformed(() => decodeDoc(d), mentions);
}

function rejectsState(edit: (s: TamperableState) => void, mentions: string | RegExp): void {
  const s: TamperableState = sample();
  s.keys = new Map(s.keys);
  edit(s);
  expectMalformed(() => validateState(s), mentions);
  expectMalformed(() => encodeState(s), mentions);
}

describe('STATE_KEY', () => {
  it('is ASCII "!encryption|state"', () => {
    expect(Buffer.from(STATE_KEY).toString('latin1')).toBe('!encryption|state');
    expect(STATE_KEY.length).toBe(17);
  });
});

describe('emptyState', () => {
  it('is version 2 with zero indices, no active keys and no keys', () => {
    const s = emptyState();
    expect(s).toEqual({
      version: 2,
      raftAppliedIndex: 0n,
      storageEnvelopeActive: false,
      storageEnvelopeCutoverIndex: 0n,
      raftEnvelopeCutoverIndex: 0n,
      active: { storage: 0, raft: 0 },
      keys: new Map(),
    });
    validateState(s);
  });

  it('returns a fresh object each time', () => {
    expect(emptyState()).not.toBe(emptyState());
    expect(emptyState().keys).not.toBe(emptyState().keys);
  });
});

describe('encodeState', () => {
  it('pins the empty state bytes', () => {
    expect(text(encodeState(emptyState()))).toBe(
      '{"version":2,"raft_applied_index":0,"storage_envelope_active":false,' +
        '"storage_envelope_cutover_index":0,"raft_envelope_cutover_index":0,' +
        '"active":{"storage":0,"raft":0},"keys":{}}',
    );
  });

  it('pins a bootstrapped state: fixed field order, elastickv field names, base64 wrapped', () => {
    expect(text(encodeState(sample()))).toBe(
      '{"version":2,"raft_applied_index":42,"storage_envelope_active":true,' +
        '"storage_envelope_cutover_index":40,"raft_envelope_cutover_index":0,' +
        '"active":{"storage":1,"raft":2},"keys":{' +
        `"1":{"purpose":"storage","wrapped":"${B64_1}","created":"2024-05-01T12:00:00Z","local_epoch":0},` +
        `"2":{"purpose":"raft","wrapped":"${B64_2}","created":"2024-05-01T12:00:00Z","local_epoch":3}}}`,
    );
  });

  it('orders keys numerically whatever the Map insertion order, 4294967295 included', () => {
    const ids = [4294967295, 10, 9, 100, 1, 2147483648];
    const s: EncryptionState = { ...emptyState(), keys: new Map(ids.map((id) => [id, entry('raft', WRAPPED_1)])) };
    const keys = Object.keys(JSON.parse(text(encodeState(s))).keys);
    expect(keys).toEqual(['1', '9', '10', '100', '2147483648', '4294967295']);
    const order = [...text(encodeState(s)).matchAll(/"(\d+)":\{"purpose"/g)].map((m) => m[1]);
    expect(order).toEqual(['1', '9', '10', '100', '2147483648', '4294967295']);
  });

  it('decodes keys in ascending id order whatever their order in the record, 4294967295 included', () => {
    const doc = sampleDoc();
    const k = doc.keys['1'];
    doc.keys = {};
    for (const id of ['4294967295', '100', '9', '2147483648', '1', '2']) doc.keys[id] = { ...k, purpose: id === '2' ? 'raft' : 'storage' };
    const t = JSON.stringify(doc).replace(/"keys":\{.*\}\}$/, () => {
      // JSON.stringify lists integer-like names ascending: write them out of order by hand.
      const parts = ['4294967295', '100', '9', '2147483648', '1', '2'].map((id) => `"${id}":${JSON.stringify(doc.keys[id])}`);
      return `"keys":{${parts.join(',')}}}`;
    });
    expect(t.indexOf('"4294967295"')).toBeLessThan(t.indexOf('"1":'));
    const decoded = decodeState(utf8(t));
    expect([...decoded.keys.keys()]).toEqual([1, 2, 9, 100, 2147483648, 4294967295]);
  });

  it('gives byte-identical records for equal states built in different orders (property)', () => {
    fc.assert(
      fc.property(validState, (s) => {
        const reversed: EncryptionState = { ...s, keys: new Map([...s.keys].reverse()) };
        expect(encodeState(reversed)).toEqual(encodeState(s));
      }),
    );
  });

  it('writes u64 values up to 2^53-1 as numbers and larger ones as decimal strings', () => {
    const s: EncryptionState = {
      ...emptyState(),
      raftAppliedIndex: 2n ** 53n - 1n,
      storageEnvelopeCutoverIndex: 2n ** 53n,
      raftEnvelopeCutoverIndex: 2n ** 64n - 1n,
    };
    const t = text(encodeState(s));
    expect(t).toContain('"raft_applied_index":9007199254740991,');
    expect(t).toContain('"storage_envelope_cutover_index":"9007199254740992",');
    expect(t).toContain('"raft_envelope_cutover_index":"18446744073709551615",');
    expect(decodeState(encodeState(s))).toEqual(s);
  });

  it('does not change the state it encodes', () => {
    const s = sample();
    const before = structuredClone(s);
    encodeState(s);
    expect(s).toEqual(before);
  });
});

describe('decodeState', () => {
  it('round-trips every valid state (property)', () => {
    fc.assert(
      fc.property(validState, (s) => {
        const back = decodeState(encodeState(s));
        expect(back).toEqual(s);
        expect(encodeState(back)).toEqual(encodeState(s));
      }),
      { numRuns: 300 },
    );
  });

  it('returns wrapped bytes as plain Uint8Array', () => {
    const w = decodeState(encodeState(sample())).keys.get(1)!.wrapped;
    expect(Object.getPrototypeOf(w)).toBe(Uint8Array.prototype);
  });

  it('accepts u64 fields as safe numbers or decimal strings', () => {
    const s = decodeDoc({ ...sampleDoc(), raft_applied_index: '42', storage_envelope_cutover_index: 40 });
    expect(s.raftAppliedIndex).toBe(42n);
    expect(s.storageEnvelopeCutoverIndex).toBe(40n);
    expect(decodeDoc({ ...sampleDoc(), raft_applied_index: '18446744073709551615' }).raftAppliedIndex).toBe(2n ** 64n - 1n);
    expect(decodeDoc({ ...sampleDoc(), raft_applied_index: 9007199254740991 }).raftAppliedIndex).toBe(2n ** 53n - 1n);
  });

  it('accepts insignificant whitespace, as in the pretty sidecar', () => {
    expect(decodeState(utf8(JSON.stringify(sampleDoc(), null, 4)))).toEqual(sample());
  });

  describe('u64 fields', () => {
    const fields = ['raft_applied_index', 'storage_envelope_cutover_index', 'raft_envelope_cutover_index'];
    const bad: [string, unknown][] = [
      ['a negative number', -1],
      ['a fraction', 1.5],
      ['2^53 as a number', 2 ** 53],
      ['a huge number', 1e30],
      ['a negative string', '-1'],
      ['a string with a leading zero', '042'],
      ['a fractional string', '1.0'],
      ['a string with a sign', '+1'],
      ['a string with spaces', ' 1'],
      ['an empty string', ''],
      ['2^64 as a string', '18446744073709551616'],
      ['a hex string', '0x10'],
      ['null', null],
      ['a boolean', true],
    ];
    for (const field of fields) {
      it.each(bad)(`rejects ${field} as %s, naming the field`, (_what, value) => {
        rejectsDoc((d) => (d[field] = value), field);
      });
    }

    it('rejects an unsafe number written literally (precision already lost)', () => {
      const t = text(encodeState(sample())).replace('"raft_applied_index":42', '"raft_applied_index":9007199254740993');
      expectMalformed(() => decodeState(utf8(t)), 'raft_applied_index');
    });
  });

  describe('rejects with ERR_STATE_MALFORMED', () => {
    it.each([
      ['version 1 (sidecar import handles it)', 1],
      ['version 3', 3],
      ['version "2"', '2'],
      ['version 0', 0],
    ])('%s', (_what, v) => rejectsDoc((d) => (d.version = v), 'version must be 2'));

    it.each([
      'version',
      'raft_applied_index',
      'storage_envelope_active',
      'storage_envelope_cutover_index',
      'raft_envelope_cutover_index',
      'active',
      'keys',
    ])('a missing %s', (field) => rejectsDoc((d) => delete d[field], field));

    it('an unknown top-level field', () => rejectsDoc((d) => (d.retired = []), 'unknown field "retired"'));
    it('an unknown field in active', () => rejectsDoc((d) => (d.active.audit = 0), 'unknown field "audit"'));
    it('an unknown field in a key entry', () => rejectsDoc((d) => (d.keys['1'].note = 'x'), 'unknown field "note"'));
    it('a "__proto__" top-level field', () => {
      const t = text(encodeState(sample())).replace('{"version"', '{"__proto__":{},"version"');
      expectMalformed(() => decodeState(utf8(t)), 'unknown field');
    });

    it.each(['0', '01', '+1', '-1', '1.0', ' 1', '1e3', '0x1', '4294967296', '99999999999', 'abc', ''])(
      'key id %j (ids are canonical decimal non-zero u32)',
      (id) =>
        rejectsDoc((d) => {
          d.keys[id] = { purpose: 'raft', wrapped: B64_2, created: '', local_epoch: 0 };
        }, 'canonical decimal non-zero u32'),
    );

    it('key id "__proto__" (as parsed JSON text, where it is an own field)', () => {
      const t = text(encodeState(sample())).replace(
        '"keys":{',
        `"keys":{"__proto__":{"purpose":"raft","wrapped":"${B64_2}","created":"","local_epoch":0},`,
      );
      expectMalformed(() => decodeState(utf8(t)), 'canonical decimal non-zero u32');
    });

    it.each(['Storage', 'RAFT', '', 'kms', 1, null])('purpose %j', (p) => rejectsDoc((d) => (d.keys['1'].purpose = p), 'keys[1].purpose'));

    it.each([
      ['empty', ''],
      ['not base64', '!!!!'],
      ['unpadded', 'QQ'],
      ['non-canonical trailing bits', 'QR=='],
      ['base64url alphabet', '-_-_'],
      ['whitespace inside', 'QUFB QUFB'],
      ['a number', 12],
      ['null', null],
      ['a byte array', [1, 2, 3]],
    ])('wrapped %s', (_what, w) => rejectsDoc((d) => (d.keys['1'].wrapped = w), 'keys[1].wrapped'));

    it('wrapped: accepts exactly the base64 that decoding and re-encoding gives back (property)', () => {
      const digit = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');
      const candidate = fc
        .tuple(fc.array(digit, { minLength: 1, maxLength: 12 }), fc.constantFrom('', '=', '=='))
        .map(([digits, pad]) => digits.join('') + pad);
      fc.assert(
        fc.property(candidate, (w) => {
          const canonical = w.length % 4 === 0 && Buffer.from(w, 'base64').toString('base64') === w;
          const doc = sampleDoc();
          doc.keys['1'].wrapped = w;
          if (canonical) expect(decodeDoc(doc).keys.get(1)!.wrapped).toEqual(new Uint8Array(Buffer.from(w, 'base64')));
          else expectMalformed(() => decodeDoc(doc), 'keys[1].wrapped');
        }),
        { numRuns: 2000 },
      );
    });

    it.each([12, null, undefined, true])('created %j', (c) => rejectsDoc((d) => (d.keys['1'].created = c), 'keys[1].created'));

    it.each([-1, 65536, 1.5, '1', null])('local_epoch %j', (e) => rejectsDoc((d) => (d.keys['1'].local_epoch = e), 'keys[1].local_epoch'));

    it.each(['purpose', 'wrapped', 'created', 'local_epoch'])('a key entry without %s', (f) =>
      rejectsDoc((d) => delete d.keys['1'][f], `keys[1].${f}`),
    );

    it.each([-1, 1.5, 2 ** 32, '1', null])('active.storage %j', (v) => rejectsDoc((d) => (d.active.storage = v), 'active.storage'));

    it('an active id that is not in keys', () => rejectsDoc((d) => (d.active.raft = 9), 'active.raft 9 is not in keys'));
    it('an active id whose key has the other purpose', () =>
      rejectsDoc((d) => (d.keys['2'].purpose = 'storage'), 'active.raft 2 names a key whose purpose is "storage"'));
    it('the same non-zero id active for both purposes', () =>
      rejectsDoc((d) => (d.active.raft = 1), 'active.storage and active.raft must differ'));
    it('storage_envelope_active without an active storage key', () =>
      rejectsDoc((d) => {
        d.active.storage = 0;
      }, 'storage_envelope_active requires a non-zero active.storage'));
    it('storage_envelope_active that is not a boolean', () =>
      rejectsDoc((d) => (d.storage_envelope_active = 1), 'storage_envelope_active must be a boolean'));
    it('active that is not an object', () => rejectsDoc((d) => (d.active = [1, 2]), 'active must be a JSON object'));
    it('keys that is not an object', () => rejectsDoc((d) => (d.keys = []), 'keys must be a JSON object'));
    it('a key entry that is not an object', () => rejectsDoc((d) => (d.keys['1'] = B64_1), 'keys[1] must be a JSON object'));

    it.each([
      ['text that is not JSON', utf8('{"version":2,')],
      ['an empty record', new Uint8Array(0)],
      ['a JSON array', utf8('[]')],
      ['JSON null', utf8('null')],
      ['a JSON string', utf8('"state"')],
      ['invalid UTF-8', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])],
    ])('%s', (_what, bytes) => {
      expectMalformed(() => decodeState(bytes), /encryption state: /);
    });

    it('JSON whose syntax error sits next to wrapped bytes, without quoting them', () => {
      const t = text(encodeState(sample())).replace(`"${B64_1}"`, `"${B64_1}"x`);
      const err = expectMalformed(() => decodeState(utf8(t)), 'not valid JSON');
      expect(err.cause).toBeUndefined();
    });
  });
});

describe('validateState', () => {
  it('accepts the sample and every generated state', () => {
    validateState(sample());
    fc.assert(fc.property(validState, (s) => validateState(s)));
  });

  it('accepts an old key of either purpose that is no longer active', () => {
    const s = sample();
    validateState({ ...s, keys: new Map([...s.keys, [3, entry('storage', WRAPPED_1)], [4, entry('raft', WRAPPED_2)]]) });
  });

  it('accepts keys with no active id (not yet bootstrapped)', () => {
    validateState({ ...emptyState(), keys: new Map([[5, entry('storage', WRAPPED_1)]]) });
  });

  describe('rejects with ERR_STATE_MALFORMED, and encodeState refuses to write', () => {
    it('version 1', () => rejectsState((s) => (s.version = 1), 'version must be 2'));
    it('a number where a u64 bigint belongs', () => rejectsState((s) => (s.raftAppliedIndex = 42), 'raft_applied_index'));
    it('a negative u64', () => rejectsState((s) => (s.storageEnvelopeCutoverIndex = -1n), 'storage_envelope_cutover_index'));
    it('a u64 above 2^64-1', () => rejectsState((s) => (s.raftEnvelopeCutoverIndex = 2n ** 64n), 'raft_envelope_cutover_index'));
    it('a non-boolean storageEnvelopeActive', () => rejectsState((s) => (s.storageEnvelopeActive = 'yes'), 'storage_envelope_active'));
    it('active.raft above u32', () => rejectsState((s) => (s.active.raft = 2 ** 32), 'active.raft'));
    it('keys that are not a Map', () => rejectsState((s) => (s.keys = {}), 'keys must be a Map'));
    it.each([0, -1, 1.5, 2 ** 32])('key id %s', (id) => rejectsState((s) => s.keys.set(id, entry('raft', WRAPPED_2)), 'non-zero u32'));
    it('an unknown purpose', () => rejectsState((s) => s.keys.set(3, { ...entry('raft', WRAPPED_2), purpose: 'kms' }), 'keys[3].purpose'));
    it('empty wrapped bytes', () => rejectsState((s) => s.keys.set(3, entry('raft', new Uint8Array(0))), 'keys[3].wrapped'));
    it('wrapped that is not bytes', () =>
      rejectsState((s) => s.keys.set(3, { ...entry('raft', WRAPPED_2), wrapped: B64_2 }), 'keys[3].wrapped'));
    it('a non-string created', () =>
      rejectsState((s) => s.keys.set(3, { ...entry('raft', WRAPPED_2), created: new Date() }), 'keys[3].created'));
    it('local_epoch above u16', () => rejectsState((s) => s.keys.set(3, entry('raft', WRAPPED_2, 65536)), 'keys[3].local_epoch'));
    it('an active id missing from keys', () => rejectsState((s) => s.keys.delete(1), 'active.storage 1 is not in keys'));
    it('an active id of the other purpose', () =>
      rejectsState((s) => s.keys.set(1, entry('raft', WRAPPED_1)), 'active.storage 1 names a key whose purpose is "raft"'));
    it('equal non-zero active ids', () => rejectsState((s) => (s.active.raft = 1), 'must differ'));
    it('an active envelope without a storage key', () =>
      rejectsState((s) => (s.active.storage = 0), 'storage_envelope_active requires a non-zero active.storage'));
    it('null', () => expectMalformed(() => validateState(null as unknown as EncryptionState), 'must be an object'));
  });
});
