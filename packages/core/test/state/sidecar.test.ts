import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, hasCode } from '../../src/errors.js';
import { decodeState, emptyState, encodeState, type EncryptionState } from '../../src/state/encryption-state.js';
import {
  exportSidecar,
  importSidecar,
  readSidecar,
  registryEntries,
  sidecarWriter,
  type SidecarRegistry,
} from '../../src/state/sidecar.js';
import { decodeRegistryKey, registryKey } from '../../src/codec/registry-key.js';
import { encodeRegistryRow } from '../../src/codec/registry-row.js';
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

describe('sidecar registry (keyledger_registry)', () => {
  const registry = (): SidecarRegistry => ({
    appliedIndex: 9n,
    writers: [
      { dekId: 2, fullNodeId: 0x41b788e2c3d90b02n, firstSeenEpoch: 1, lastSeenEpoch: 3 },
      { dekId: 1, fullNodeId: 0x9f3c21d45e100a01n, firstSeenEpoch: 1, lastSeenEpoch: 1 },
    ],
  });

  it('keeps the version-2 fields byte-identical and adds one top-level field after them', () => {
    const plain = exportSidecar(state());
    const text = exportSidecar(state(), registry());
    // Everything elastickv reads is the same text; the registry follows as the last field, which
    // elastickv's json.Unmarshal into its Sidecar struct ignores.
    expect(text.startsWith(plain.slice(0, plain.lastIndexOf('\n}')))).toBe(true);
    const doc = JSON.parse(text);
    expect(Object.keys(doc)).toEqual([...Object.keys(JSON.parse(plain)), 'keyledger_registry']);
    expect(doc.keyledger_registry).toEqual({
      applied_index: 9,
      writers: [
        { dek_id: 1, node_id: '0x9f3c21d45e100a01', first_epoch: 1, last_epoch: 1 },
        { dek_id: 2, node_id: '0x41b788e2c3d90b02', first_epoch: 1, last_epoch: 3 },
      ],
    });
  });

  it('round-trips state and rows; importSidecar still returns the state alone', () => {
    const text = exportSidecar(state(), registry());
    const back = readSidecar(text);
    expect(encodeState(back.state)).toEqual(encodeState(state()));
    expect(back.registry?.appliedIndex).toBe(9n);
    expect(back.registry?.writers).toHaveLength(2);
    expect(encodeState(importSidecar(text))).toEqual(encodeState(state()));
    expect(readSidecar(exportSidecar(state())).registry).toBeUndefined();
  });

  it('registryEntries writes the rows under their registry keys; sidecarWriter reads them back', () => {
    const entries = registryEntries(registry());
    expect(entries[0]!.key).toEqual(registryKey(2, 0x41b788e2c3d90b02n));
    expect(decodeRegistryKey(entries[1]!.key)).toEqual({ dekId: 1, nodeId16: 0x0a01 });
    expect(entries.map(sidecarWriter)).toEqual(registry().writers);
    const wrongSlot = {
      key: registryKey(1, 0x0a02n),
      value: encodeRegistryRow({ fullNodeId: 0x0a01n, firstSeenEpoch: 1, lastSeenEpoch: 1 }),
    };
    expect(() => sidecarWriter(wrongSlot)).toThrow(/slot/);
  });

  it.each([
    ['an applied index below the state', { applied_index: 6, writers: [] }, 'below the state'],
    ['a bad node id', { applied_index: 9, writers: [{ dek_id: 1, node_id: '12', first_epoch: 1, last_epoch: 1 }] }, 'node_id'],
    [
      'an epoch over u16',
      { applied_index: 9, writers: [{ dek_id: 1, node_id: '0x0000000000000001', first_epoch: 1, last_epoch: 70000 }] },
      'last_epoch',
    ],
    [
      'one slot twice',
      {
        applied_index: 9,
        writers: [
          { dek_id: 1, node_id: '0x0000000000000001', first_epoch: 1, last_epoch: 1 },
          { dek_id: 1, node_id: '0x1000000000000001', first_epoch: 1, last_epoch: 1 },
        ],
      },
      'second time',
    ],
    ['an unknown field', { applied_index: 9, writers: [], extra: 1 }, 'unknown field "extra"'],
    ['a missing field', { applied_index: 9 }, 'missing field document.writers'],
  ])('refuses %s', (_what, reg, mentions) => {
    const doc = { ...JSON.parse(exportSidecar(state())), keyledger_registry: reg };
    expectMalformed(() => readSidecar(JSON.stringify(doc)), mentions);
  });
});
