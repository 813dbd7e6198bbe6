import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findStrace, runConformance } from '../../src/conformance/index.js';
import { compareBytes, startsWith, type RegistryStore, type StoreEntry } from '../../src/index.js';
// @ts-expect-error -- a plain .mjs fixture without types
import { openStore } from '../fixtures/json-file-store.mjs';

type Defect =
  | 'non-atomic-write'
  | 'shares-buffers'
  | 'unordered-scan'
  | 'leaky-scan'
  | 'answers-after-close'
  | 'null-for-missing'
  | 'empty-array-for-missing'
  | 'string-keys';

/** A map-backed store with exactly one deliberate contract violation. */
class BrokenStore implements RegistryStore {
  readonly kind = 'broken';
  #closed = false;
  constructor(
    private readonly defect: Defect,
    // Shared per directory, so reopening a directory sees what was written (as a durable store would).
    private readonly rows: Map<string, StoreEntry>,
  ) {}

  #id(key: Uint8Array): string {
    return this.defect === 'string-keys' ? new TextDecoder().decode(key) : Buffer.from(key).toString('hex');
  }

  #checkOpen(): void {
    if (this.#closed && this.defect !== 'answers-after-close')
      throw Object.assign(new TypeError('closed'), { code: 'ERR_UNSUPPORTED_STORE' });
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.#checkOpen();
    const row = this.rows.get(this.#id(key));
    if (!row) {
      if (this.defect === 'null-for-missing') return null as unknown as undefined;
      if (this.defect === 'empty-array-for-missing') return new Uint8Array(0);
      return undefined;
    }
    return this.defect === 'shares-buffers' ? row.value : new Uint8Array(row.value);
  }

  async write(puts: readonly StoreEntry[]): Promise<void> {
    this.#checkOpen();
    const valid = (p: StoreEntry) => p.key instanceof Uint8Array && p.value instanceof Uint8Array && p.key.length <= 511;
    if (this.defect !== 'non-atomic-write' && !puts.every(valid))
      throw Object.assign(new TypeError('bad put'), { code: 'ERR_UNSUPPORTED_STORE' });
    for (const p of puts) {
      if (!valid(p)) throw new TypeError('bad put half-way through');
      const row = this.defect === 'shares-buffers' ? p : { key: new Uint8Array(p.key), value: new Uint8Array(p.value) };
      this.rows.set(this.#id(p.key), row);
    }
  }

  async *scan(prefix: Uint8Array): AsyncIterable<StoreEntry> {
    this.#checkOpen();
    let rows = [...this.rows.values()];
    if (this.defect === 'leaky-scan') rows = rows.filter((r) => compareBytes(r.key, prefix) >= 0);
    else rows = rows.filter((r) => startsWith(r.key, prefix));
    if (this.defect !== 'unordered-scan') rows.sort((a, b) => compareBytes(a.key, b.key));
    for (const r of rows) yield { key: new Uint8Array(r.key), value: new Uint8Array(r.value) };
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}

const tables = new Map<string, Map<string, StoreEntry>>();
function openBroken(defect: Defect | 'none', dir: string): BrokenStore {
  if (!tables.has(dir)) tables.set(dir, new Map());
  return new BrokenStore(defect as Defect, tables.get(dir)!);
}

/** For each defect, a case of the suite that must fail, by its readable name. */
const expectations: [Defect, string][] = [
  ['non-atomic-write', 'atomicity › a write with an invalid put rejects and makes none of its puts visible'],
  ['shares-buffers', 'basics › get returns a copy the caller may mutate'],
  ['shares-buffers', 'basics › write copies its input: mutating a key or value afterwards changes nothing'],
  ['unordered-scan', 'scan-order › scan yields keys in unsigned byte order'],
  ['leaky-scan', 'scan-order › scan yields only keys that start with the prefix'],
  ['answers-after-close', 'closed › get after close rejects with ERR_UNSUPPORTED_STORE'],
  ['answers-after-close', 'closed › write after close rejects with ERR_UNSUPPORTED_STORE'],
  ['null-for-missing', 'basics › get of a missing key resolves to undefined (not null, not an empty array)'],
  ['empty-array-for-missing', 'basics › get of a missing key resolves to undefined (not null, not an empty array)'],
  ['string-keys', 'basics › byte keys that decode to the same string stay distinct'],
];

describe('conformance suite › catches broken stores', () => {
  for (const [defect, caseName] of expectations) {
    it(`${defect} fails "${caseName}"`, async () => {
      const report = await runConformance({ name: defect, open: (dir) => openBroken(defect, dir) });
      const failed = report.cases.filter((c) => c.status === 'failed').map((c) => `${c.group} › ${c.name}`);
      expect(failed).toContain(caseName);
      expect(report.failed).toBe(failed.length);
    });
  }

  it('a correct map store passes the same cases (the broken ones fail for their defect alone)', async () => {
    const report = await runConformance({ name: 'reference', open: (dir) => openBroken('none', dir) });
    expect(report.cases.filter((c) => c.status === 'failed')).toEqual([]);
    expect(report.passed).toBeGreaterThan(30);
  });

  it('a store that acknowledges before it persists fails the crash cases', async () => {
    const report = await runConformance({
      name: 'buffering',
      open: (dir) => openStore(dir),
      module: fileURLToPath(new URL('../fixtures/buffering-json-file-store.mjs', import.meta.url)),
      filter: 'crash ›',
      crashRounds: 3,
    });
    expect(report.cases).toHaveLength(3);
    for (const c of report.cases) {
      expect(c.status, `${c.name}: ${c.reason}`).toBe('failed');
      expect(c.reason).toMatch(/acknowledged (write|entry) \d+ of round \d+ is missing/);
    }
  });

  it.skipIf(!findStrace())('a store that acknowledges before it persists fails the strace durability case', async () => {
    const report = await runConformance({
      name: 'buffering',
      open: (dir) => openStore(dir),
      module: fileURLToPath(new URL('../fixtures/buffering-json-file-store.mjs', import.meta.url)),
      filter: 'sync syscall',
    });
    expect(report.cases).toHaveLength(1);
    expect(report.cases[0]!.status).toBe('failed');
    expect(report.cases[0]!.reason).toMatch(/of 20 writes resolved without an fsync/);
  });

  it('skipped cases say why and are never counted as passed', async () => {
    const report = await runConformance({ name: 'reference', open: (dir) => openBroken('none', dir) });
    const skipped = report.cases.filter((c) => c.status === 'skipped');
    expect(skipped.length).toBeGreaterThan(0);
    for (const c of skipped) expect(c.reason, c.name).toMatch(/\S.{14,}/);
    expect(report.passed + report.failed + report.skipped).toBe(report.cases.length);
  });
});
