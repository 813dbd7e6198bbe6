import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterAll, describe, expect, it } from 'vitest';
import { LEVEL_REGISTRY_SUBLEVEL, LevelRegistryStore } from '../src/index.js';

// Every operation addresses the sublevel's rows through the database with keys the store prefixes;
// these cases pin that those are the very rows the sublevel itself reads and writes, and no others.
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const;
const bytes = (...b: number[]) => new Uint8Array(b);
/** Plain numbers: the database hands back Buffers, the store Uint8Arrays. */
const plain = (b: Uint8Array | undefined) => (b === undefined ? undefined : [...b]);

describe('LevelRegistryStore sublevel layout', () => {
  it('write › rows land in the keyledger-registry sublevel', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyledger-level-layout-'));
    dirs.push(dir);
    const db = new Level(dir);
    const store = new LevelRegistryStore(db);
    await store.write([
      { key: bytes(0x00), value: bytes(1) },
      { key: bytes(0x21, 0xff), value: bytes(2, 0) },
    ]);
    const sub = db.sublevel<Uint8Array, Uint8Array>(LEVEL_REGISTRY_SUBLEVEL, VIEW);
    expect(plain(await sub.get(bytes(0x00), VIEW))).toEqual([1]);
    expect(plain(await sub.get(bytes(0x21, 0xff), VIEW))).toEqual([2, 0]);
    expect((await sub.keys(VIEW).all()).map(plain)).toEqual([[0x00], [0x21, 0xff]]);
    await db.close();
  });

  it('getMany › reads rows the sublevel wrote, and nothing outside it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyledger-level-layout-'));
    dirs.push(dir);
    const db = new Level(dir);
    const sub = db.sublevel<Uint8Array, Uint8Array>(LEVEL_REGISTRY_SUBLEVEL, VIEW);
    await sub.put(bytes(0x07), bytes(7), VIEW);
    await db.put('\x07', 'outside');
    const store = new LevelRegistryStore(db);
    expect((await store.getMany([bytes(0x07), bytes(0x08)])).map(plain)).toEqual([[7], undefined]);
    await db.close();
  });

  it('scan › yields the rows the sublevel wrote, keys without its prefix, and nothing just outside it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyledger-level-layout-'));
    dirs.push(dir);
    const db = new Level(dir);
    const sub = db.sublevel<Uint8Array, Uint8Array>(LEVEL_REGISTRY_SUBLEVEL, VIEW);
    await sub.put(bytes(0x00), bytes(1), VIEW);
    await sub.put(bytes(0xff, 0xff), bytes(2), VIEW);
    // The database keys on either side of the sublevel's range: '!keyledger-registry' + '!' - 1 and + 1.
    await db.put(`!${LEVEL_REGISTRY_SUBLEVEL} `, 'below');
    await db.put(`!${LEVEL_REGISTRY_SUBLEVEL}"`, 'above');
    const store = new LevelRegistryStore(db);
    const rows = [];
    for await (const { key, value } of store.scan(bytes())) rows.push([plain(key), plain(value)]);
    expect(rows).toEqual([
      [[0x00], [1]],
      [[0xff, 0xff], [2]],
    ]);
    const high = [];
    for await (const { key } of store.scan(bytes(0xff))) high.push(plain(key));
    expect(high).toEqual([[0xff, 0xff]]);
    await db.close();
  });
});
