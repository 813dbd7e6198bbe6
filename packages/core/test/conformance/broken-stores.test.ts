import { setImmediate as tick } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { allCases, runConformance, type RunConformanceOptions } from '../../src/conformance/index.js';
import { compareBytes, startsWith, type RegistryStore, type StoreEntry } from '../../src/index.js';
// @ts-expect-error -- a plain .mjs fixture without types
import { JsonFileStore, failNextWrite } from '../fixtures/json-file-store.mjs';

// The suite proven: every case that exists to catch a class of bug names it in `catches`, and
// here the store with exactly that bug fails exactly that case.

const mapDefects = [
  'non-atomic-write',
  'shares-buffers',
  'unordered-scan',
  'leaky-scan',
  'answers-after-close',
  'null-for-missing',
  'empty-array-for-missing',
  'string-keys',
  'torn-read',
  'nul-truncated-keys',
  'getmany-reversed',
  'forgets-on-reopen',
  'raw-backend-errors',
] as const;
const fileDefects = ['buffering', 'no-dir-fsync', 'visible-before-persist'] as const;
type Defect = (typeof mapDefects)[number];

/** A map-backed store with at most one deliberate contract violation. */
class BrokenStore implements RegistryStore {
  readonly kind = 'broken';
  #closed = false;
  constructor(
    private readonly defect: Defect | 'none',
    // Shared per directory, so reopening a directory sees what was written (as a durable store would).
    private readonly rows: Map<string, StoreEntry>,
  ) {}

  /** Set by breakBackend: every later call fails as the backend would. */
  broken = false;

  #id(key: Uint8Array): string {
    if (this.defect === 'string-keys') return new TextDecoder().decode(key);
    if (this.defect === 'nul-truncated-keys')
      return Buffer.from(key.subarray(0, key.indexOf(0) < 0 ? key.length : key.indexOf(0))).toString('hex');
    return Buffer.from(key).toString('hex');
  }

  #check(op: string, ...keys: unknown[]): void {
    if (this.#closed && this.defect !== 'answers-after-close') throw Object.assign(new Error('closed'), { code: 'ERR_STORE_CLOSED' });
    const bad = keys.some((k) => !(k instanceof Uint8Array) || k.length === 0 || k.length > 511);
    if (bad) throw Object.assign(new Error(`bad ${op} argument`), { code: 'ERR_INVALID_ARGUMENT' });
    if (this.broken) {
      const cause = Object.assign(new Error('backend handle closed'), { code: 'EBADF' });
      throw this.defect === 'raw-backend-errors' ? cause : Object.assign(new Error(`${op} failed`, { cause }), { code: 'ERR_STORE_IO' });
    }
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.#check('get', key);
    const row = this.rows.get(this.#id(key));
    if (!row) {
      if (this.defect === 'null-for-missing') return null as unknown as undefined;
      if (this.defect === 'empty-array-for-missing') return new Uint8Array(0);
      return undefined;
    }
    return this.defect === 'shares-buffers' ? row.value : new Uint8Array(row.value);
  }

  async getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    if (!Array.isArray(keys)) throw Object.assign(new Error('not an array'), { code: 'ERR_INVALID_ARGUMENT' });
    this.#check('getMany', ...keys);
    const values = await Promise.all(keys.map((k) => this.get(k)));
    return this.defect === 'getmany-reversed' ? values.reverse() : values;
  }

  async write(puts: readonly StoreEntry[]): Promise<void> {
    this.#check('write');
    const valid = (p: StoreEntry | null) =>
      p !== null && p.value instanceof Uint8Array && p.key instanceof Uint8Array && p.key.length > 0 && p.key.length <= 511;
    if (!Array.isArray(puts) || (this.defect !== 'non-atomic-write' && !puts.every(valid))) {
      throw Object.assign(new Error('bad put'), { code: 'ERR_INVALID_ARGUMENT' });
    }
    for (const p of puts) {
      if (!valid(p)) throw new Error('bad put half-way through');
      const row = this.defect === 'shares-buffers' ? p : { key: new Uint8Array(p.key), value: new Uint8Array(p.value) };
      this.rows.set(this.#id(p.key), row);
      // Each put becomes visible on its own, and the batch is persisted once at the end.
      if (this.defect === 'torn-read') await tick();
    }
  }

  async *scan(prefix: Uint8Array): AsyncIterable<StoreEntry> {
    this.#check('scan');
    if (!(prefix instanceof Uint8Array)) throw Object.assign(new Error('bad prefix'), { code: 'ERR_INVALID_ARGUMENT' });
    let rows = [...this.rows.values()];
    rows = rows.filter((r) => (this.defect === 'leaky-scan' ? compareBytes(r.key, prefix) >= 0 : startsWith(r.key, prefix)));
    if (this.defect !== 'unordered-scan') rows.sort((a, b) => compareBytes(a.key, b.key));
    for (const r of rows) yield { key: new Uint8Array(r.key), value: new Uint8Array(r.value) };
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}

const tables = new Map<string, Map<string, StoreEntry>>();
function openBroken(defect: Defect | 'none', dir: string): BrokenStore {
  if (!tables.has(dir) || defect === 'forgets-on-reopen') tables.set(dir, new Map());
  return new BrokenStore(defect, tables.get(dir)!);
}

const fixture = fileURLToPath(new URL('../fixtures/json-file-store.mjs', import.meta.url));

function optionsFor(defect: string): RunConformanceOptions {
  if (defect === 'none' || (mapDefects as readonly string[]).includes(defect)) {
    return {
      name: defect,
      open: (dir) => openBroken(defect as Defect, dir),
      breakBackend: (store) => {
        (store as BrokenStore).broken = true;
      },
    };
  }
  const url = `${pathToFileURL(fixture).href}?defect=${defect}`;
  return { name: defect, open: (dir) => new JsonFileStore(dir, defect), module: url, failNextWrite, crashRounds: 2 };
}

/** What the failure must say, where a defect could also fail a case for some other reason. */
const because: Record<string, RegExp> = {
  'no-dir-fsync': /renamed a file into place and resolved without syncing its directory/,
  'torn-read': /visible in part|a scan saw \d+ of the write's 2000 puts/,
  'visible-before-persist': /contents after the failed write \(in this process\)/,
  'null-for-missing': /expected undefined, got null/,
  'answers-after-close': /expected a rejection with ERR_STORE_CLOSED, but it resolved/,
  'raw-backend-errors': /expected ERR_STORE_IO, got/,
  'getmany-reversed': /m3: bytes differ/,
  'nul-truncated-keys': /: bytes differ/,
  'forgets-on-reopen': /contents after two reopens/,
};

const caught = allCases.flatMap((c) =>
  (c.catches ?? '')
    .split(/,\s*/)
    .filter(Boolean)
    .map((defect) => ({ defect, name: `${c.group} › ${c.name}` })),
);

describe('conformance suite › catches broken stores', () => {
  it('every broken store is named by a case, and every name is a broken store', () => {
    expect(new Set(caught.map((c) => c.defect))).toEqual(new Set([...mapDefects, ...fileDefects]));
  });

  for (const { defect, name } of caught) {
    it(`${defect} fails "${name}"`, async () => {
      const report = await runConformance({ ...optionsFor(defect), filter: name });
      expect(report.cases.map((c) => `${c.group} › ${c.name}`)).toContain(name);
      const result = report.cases.find((c) => `${c.group} › ${c.name}` === name)!;
      expect(result.status, result.reason).toBe('failed');
      if (defect === 'buffering')
        expect(result.reason).toMatch(/acknowledged (write|entry) \d+ of round \d+ is missing|writes resolved without an fsync/);
      if (because[defect]) expect(result.reason).toMatch(because[defect]!);
    });
  }

  it('the correct map store passes every case the broken ones fail (each fails for its defect alone)', async () => {
    const report = await runConformance({ ...optionsFor('none'), name: 'reference' });
    expect(report.cases.filter((c) => c.status === 'failed')).toEqual([]);
    expect(report.passed).toBeGreaterThan(25);
  });

  it('skipped cases say why and are never counted as passed', async () => {
    const report = await runConformance({ name: 'reference', open: (dir) => openBroken('none', dir) });
    const skipped = report.cases.filter((c) => c.status === 'skipped');
    expect(skipped.length).toBeGreaterThan(0);
    for (const c of skipped) expect(c.reason, c.name).toMatch(/\S.{14,}/);
    expect(report.passed + report.failed + report.skipped).toBe(report.cases.length);
  });
});
