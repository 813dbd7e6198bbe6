// A custom keyledger backend: every row in one JSON file, rewritten atomically on each write.
//
// It shows what the store contract (docs/design.md, 'Store contract') asks of a backend author and how little code that
// takes on top of BaseRegistryStore, which already validates arguments, copies buffers, enforces
// the closed state and wraps failures as ERR_STORE_IO. It is an example: every write rewrites the
// whole file, so it suits registries of a few thousand rows, not a busy replica.
//
// Check it with:  keyledger conformance examples/json-file-store/index.mjs

import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BaseRegistryStore, compareBytes, startsWith } from '@keyledger/core';

const DATA_FILE = 'registry.json';
const TEMP_FILE = 'registry.json.tmp';

const hexOf = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
const fromHex = (text) => new Uint8Array(Buffer.from(text, 'hex'));

/** Writes `text` to `path` and fsyncs it before returning. */
async function writeFileSynced(path, text) {
  const fh = await open(path, 'w', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export class JsonFileRegistryStore extends BaseRegistryStore {
  kind = 'json-file';
  /** The directory the store lives in. */
  dir;
  /** hex(key) → { key, value }: hex so that two byte keys can never map to one string. */
  #rows;
  /** The directory, held open to fsync it after each rename and to notice it being deleted. */
  #dirHandle;
  /** Writes run one at a time: two interleaved rewrites of the file would lose one of them. */
  #writing = Promise.resolve();

  constructor(dir, dirHandle, rows) {
    super();
    this.dir = dir;
    this.#dirHandle = dirHandle;
    this.#rows = rows;
  }

  /** Opens (creating if missing) the store in `dir`. */
  static async open(dir) {
    await mkdir(dir, { recursive: true });
    // A temporary file is a write that never reached its rename: it was not acknowledged.
    await rm(join(dir, TEMP_FILE), { recursive: true, force: true });
    const rows = new Map();
    let text;
    try {
      text = await readFile(join(dir, DATA_FILE), 'utf8');
    } catch (err) {
      if (err.code !== 'ENOENT') throw err;
    }
    if (text !== undefined) {
      for (const [k, v] of Object.entries(JSON.parse(text).rows)) rows.set(k, { key: fromHex(k), value: fromHex(v) });
    }
    // `this`, so that a subclass opens as itself.
    return new this(dir, await open(dir, 'r'), rows);
  }

  /**
   * Reads are served from memory, but only while the directory still exists: a store whose
   * directory was deleted under it could not persist the next write, and must say so now.
   */
  async #checkBackend() {
    const st = await this.#dirHandle.stat();
    if (st.nlink === 0) throw new Error(`the store directory ${this.dir} was removed`);
  }

  async _get(key) {
    await this.#checkBackend();
    return this.#rows.get(hexOf(key))?.value;
  }

  _write(puts) {
    const run = this.#writing.then(() => this.#persist(puts));
    this.#writing = run.catch(() => undefined);
    return run;
  }

  /**
   * Atomic and durable: the new contents go to a temporary file that is fsynced, renamed over the
   * data file, and then the directory is fsynced. A crash before the rename leaves the old file;
   * skipping the directory fsync would let a power loss undo an acknowledged rename.
   */
  async #persist(puts) {
    await this.#checkBackend();
    if (puts.length === 0) return;
    const next = new Map(this.#rows);
    for (const p of puts) next.set(hexOf(p.key), p);
    const rows = {};
    for (const [k, { value }] of next) rows[k] = hexOf(value);
    await writeFileSynced(join(this.dir, TEMP_FILE), JSON.stringify({ version: 1, rows }));
    await rename(join(this.dir, TEMP_FILE), join(this.dir, DATA_FILE));
    await this.#dirHandle.sync();
    this.#rows = next;
  }

  async *_scan(prefix) {
    await this.#checkBackend();
    const hits = [...this.#rows.values()].filter((row) => startsWith(row.key, prefix));
    hits.sort((a, b) => compareBytes(a.key, b.key));
    yield* hits;
  }

  async _close() {
    await this.#writing;
    await this.#dirHandle.close();
  }
}

/** What `keyledger conformance` and the suite's crash cases import. */
export function openStore(dir) {
  return JsonFileRegistryStore.open(dir);
}

/** For the suite's ERR_STORE_IO cases: deletes the store's directory under it. */
export async function breakBackend(store) {
  await rm(store.dir, { recursive: true, force: true });
}

/** For the suite's failed-persist case: a directory where the next write's temporary file must go. */
export async function failNextWrite(store) {
  await mkdir(join(store.dir, TEMP_FILE));
}

export const name = 'json-file';
