// The custom backend from the root README's "write your own backend" section: one JSON file,
// replaced atomically (temp file, fsync, rename, directory fsync) on every write.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BaseRegistryStore, compareBytes, startsWith } from '@keyledger/core';

const hex = (b) => Buffer.from(b).toString('hex');

export class JsonFileStore extends BaseRegistryStore {
  kind = 'json-file';
  #dir;
  #rows = new Map();

  constructor(dir) {
    super();
    this.#dir = dir;
    try {
      for (const [k, v] of JSON.parse(readFileSync(join(dir, 'rows.json'), 'utf8'))) this.#rows.set(k, Buffer.from(v, 'hex'));
    } catch (err) {
      if (err.code !== 'ENOENT') throw err;
    }
  }

  _get(key) {
    return this.#rows.get(hex(key));
  }

  _write(puts) {
    const next = new Map(this.#rows);
    for (const { key, value } of puts) next.set(hex(key), value);
    const tmp = join(this.#dir, 'rows.json.tmp');
    writeFileSync(tmp, JSON.stringify([...next].map(([k, v]) => [k, hex(v)])));
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, join(this.#dir, 'rows.json'));
    const dirFd = openSync(this.#dir, 'r');
    fsyncSync(dirFd);
    closeSync(dirFd);
    this.#rows = next;
  }

  *_scan(prefix) {
    const hits = [...this.#rows].map(([k, v]) => ({ key: Buffer.from(k, 'hex'), value: v })).filter((e) => startsWith(e.key, prefix));
    yield* hits.sort((a, b) => compareBytes(a.key, b.key));
  }

  _close() {}
}

export const openStore = (dir) => new JsonFileStore(dir);
