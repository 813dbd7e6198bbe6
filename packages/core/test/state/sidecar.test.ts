import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, hasCode } from '../../src/errors.js';
import { decodeState, emptyState, encodeState, type EncryptionState } from '../../src/state/encryption-state.js';
import { exportSidecar, importSidecar } from '../../src/state/sidecar.js';
import { validState } from './arbitraries.js';

const W1 = Buffer.from(new Uint8Array(60).fill(0x11)).toString('base64');
const W2 = Buffer.from(new Uint8Array(60).fill(0x22)).toString('base64');

function state(): EncryptionState {
  return {
    version: 2,
    raftAppliedIndex: 7n,
    storageEnvelopeActive: false,
    storageEnvelopeCutoverIndex: 0n,
    raftEnvelopeCutoverIndex: 2n ** 60n,
    active: { storage: 1, raft: 2 },
    keys: new Map([
      [2, { purpose: 'raft', wrapped: new Uint8Array(60).fill(0x22), created: '2024-05-01T12:00:00Z', localEpoch: 0 }],
      [1, { purpose: 'storage', wrapped: new Uint8Array(60).fill(0x11), created: '2024-05-01T12:00:00Z', localEpoch: 1 }],
    ]),
  };
}

function expectMalformed(fn: () => unknown, mentions: string): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(hasCode(err, ErrorCode.STATE_MALFORMED), `expected ERR_STATE_MALFORMED, got ${String(err)}`).toBe(true);
  expect((err as Error).message).toContain(mentions);
  expect((err as Error).message).not.toContain(W1);
}

describe('exportSidecar', () => {
  it('pins the version-2 keys.json text: two-space indent, fixed order, trailing newline', () => {
    expect(exportSidecar(state())).toBe(`{
  "version": 2,
  "raft_applied_index": 7,
  "storage_envelope_active": false,
  "storage_envelope_cutover_index": 0,
  "raft_envelope_cutover_index": "1152921504606846976",
  "active": {
    "storage": 1,
    "raft": 2
  },
  "keys": {
    "1": {
      "purpose": "storage",
      "wrapped": "${W1}",
      "created": "2024-05-01T12:00:00Z",
      "local_epoch": 1
    },
    "2": {
      "purpose": "raft",
      "wrapped": "${W2}",
      "created": "2024-05-01T12:00:00Z",
      "local_epoch": 0
    }
  }
}
`);
  });

  it('refuses an invalid state', () => {
    expectMalformed(() => exportSidecar({ ...state(), active: { storage: 9, raft: 2 } }), 'active.storage 9 is not in keys');
  });
});

describe('importSidecar', () => {
  it('round-trips version 2 (property)', () => {
    fc.assert(
      fc.property(validState, (s) => {
        expect(importSidecar(exportSidecar(s))).toEqual(s);
      }),
    );
  });

  it('reads the same document the store record holds, and vice versa', () => {
    const s = state();
    expect(decodeState(new TextEncoder().encode(exportSidecar(s)))).toEqual(s);
    expect(importSidecar(new TextDecoder().decode(encodeState(s)))).toEqual(s);
  });

  it('reads a version-1 document without the envelope fields, defaulting them to false and 0', () => {
    const v1 = `{
  "version": 1,
  "raft_applied_index": 12,
  "active": { "storage": 1, "raft": 2 },
  "keys": {
    "1": { "purpose": "storage", "wrapped": "${W1}", "created": "2024-05-01T12:00:00Z", "local_epoch": 1 },
    "2": { "purpose": "raft", "wrapped": "${W2}", "created": "2024-05-01T12:00:00Z", "local_epoch": 0 }
  }
}`;
    const s = importSidecar(v1);
    expect(s.version).toBe(2);
    expect(s.storageEnvelopeActive).toBe(false);
    expect(s.storageEnvelopeCutoverIndex).toBe(0n);
    expect(s.raftEnvelopeCutoverIndex).toBe(0n);
    expect(s.raftAppliedIndex).toBe(12n);
    expect([...s.keys.keys()]).toEqual([1, 2]);
    expect(exportSidecar(s)).toContain('"version": 2,');
  });

  // elastickv's own writer labels its document version 1 yet already carries the envelope
  // fields; they are kept when present.
  it('reads a version-1 document that carries the envelope fields', () => {
    const s = importSidecar(
      JSON.stringify({
        version: 1,
        raft_applied_index: 30,
        storage_envelope_active: true,
        storage_envelope_cutover_index: 25,
        raft_envelope_cutover_index: 28,
        active: { storage: 1, raft: 0 },
        keys: { '1': { purpose: 'storage', wrapped: W1, created: '', local_epoch: 0 } },
      }),
    );
    expect(s).toMatchObject({ version: 2, storageEnvelopeActive: true, storageEnvelopeCutoverIndex: 25n, raftEnvelopeCutoverIndex: 28n });
  });

  it('reads a version-1 empty document as the empty state', () => {
    expect(importSidecar('{"version":1,"raft_applied_index":0,"active":{"storage":0,"raft":0},"keys":{}}')).toEqual(emptyState());
  });

  it('applies every validation rule to version 1 too', () => {
    expectMalformed(
      () => importSidecar(`{"version":1,"raft_applied_index":0,"active":{"storage":3,"raft":0},"keys":{}}`),
      'active.storage 3 is not in keys',
    );
    expectMalformed(
      () => importSidecar(`{"version":1,"raft_applied_index":0,"storage_envelope_active":null,"active":{"storage":0,"raft":0},"keys":{}}`),
      'storage_envelope_active must be a boolean',
    );
  });

  it('requires the envelope fields in version 2', () => {
    expectMalformed(
      () => importSidecar('{"version":2,"raft_applied_index":0,"active":{"storage":0,"raft":0},"keys":{}}'),
      'missing field storage_envelope_active',
    );
  });

  it.each([0, 3, '1', null])('refuses version %j', (v) => {
    expectMalformed(
      () => importSidecar(`{"version":${JSON.stringify(v)},"raft_applied_index":0,"active":{"storage":0,"raft":0},"keys":{}}`),
      'version must be 1 or 2',
    );
  });

  it.each([
    ['not JSON', '{"version": 2', 'not valid JSON'],
    ['empty text', '', 'not valid JSON'],
    ['an array', '[]', 'must be a JSON object'],
    ['an unknown field', `{"version":1,"raft_applied_index":0,"active":{"storage":0,"raft":0},"keys":{},"kek":"x"}`, 'unknown field "kek"'],
    [
      'a bad key id',
      `{"version":1,"raft_applied_index":0,"active":{"storage":0,"raft":0},"keys":{"0":{"purpose":"raft","wrapped":"${W1}","created":"","local_epoch":0}}}`,
      'canonical decimal',
    ],
    [
      'an unknown purpose',
      `{"version":1,"raft_applied_index":0,"active":{"storage":0,"raft":0},"keys":{"1":{"purpose":"kms","wrapped":"${W1}","created":"","local_epoch":0}}}`,
      'keys[1].purpose',
    ],
    [
      'bad base64',
      `{"version":1,"raft_applied_index":0,"active":{"storage":0,"raft":0},"keys":{"1":{"purpose":"raft","wrapped":"@@@@","created":"","local_epoch":0}}}`,
      'keys[1].wrapped',
    ],
  ])('refuses %s', (_what, json, mentions) => {
    expectMalformed(() => importSidecar(json), mentions);
  });

  it('refuses input that is not a string', () => {
    expectMalformed(() => importSidecar(Buffer.from('{}') as unknown as string), 'must be JSON text');
  });
});
