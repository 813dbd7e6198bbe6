import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { Level } from 'level';
import { MemoryLevel } from 'memory-level';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@keyledger/core';
import { describeRegistryStore } from '@keyledger/core/conformance';
import { bytes, codeOf, describeAdapter, expectOnlyOwnRows } from '@keyledger/harness/adapter';
import { LevelRegistryStore } from '../src/index.js';

// The conformance suite and the cases every adapter shares first, then this adapter's own.
const { freshDir } = describeAdapter({
  name: 'LevelRegistryStore',
  own: 'level',
  shape: 'directory',
  testFile: import.meta.url,
  conformance: describeRegistryStore,
  openHandle: async (dir) => {
    const db = new Level(join(dir, 'level'));
    await db.open();
    return db;
  },
  construct: (db, options) => new LevelRegistryStore(db as Level, options),
  closeHandle: (db) => db.close(),
  open: (path, options) => LevelRegistryStore.open(path, options),
});

describe('LevelRegistryStore › construction refusal', () => {
  it('refuses a memory-level MemoryLevel (volatile)', async () => {
    const db = new MemoryLevel();
    await db.open();
    expect(codeOf(() => new LevelRegistryStore(db as never))).toBe(ErrorCode.UNSUPPORTED_STORE);
    await db.close();
  });

  it('judges volatility by the manifest, not the class name: a persistent database named MemoryLevel is accepted', async () => {
    class MemoryLevel extends ClassicLevel {}
    const db = new MemoryLevel(freshDir());
    await db.open();
    const store = new LevelRegistryStore(db as never);
    await store.write([{ key: bytes(1), value: bytes(2) }]);
    expect(await store.get(bytes(1))).toEqual(bytes(2));
    await db.close();
  });

  it('refuses a closed database', async () => {
    const db = new Level(freshDir());
    await db.open();
    await db.close();
    expect(codeOf(() => new LevelRegistryStore(db))).toBe(ErrorCode.UNSUPPORTED_STORE);
  });

  it('refuses a sublevel in place of the database', async () => {
    const db = new Level(freshDir());
    await db.open();
    try {
      expect(codeOf(() => new LevelRegistryStore(db.sublevel('mine') as never))).toBe(ErrorCode.UNSUPPORTED_STORE);
    } finally {
      await db.close();
    }
  });

  it('accepts a database still opening (level opens lazily) and a ClassicLevel', async () => {
    const lazy = new Level(freshDir());
    const store = new LevelRegistryStore(lazy, { closeHandle: true });
    await store.write([{ key: bytes(1), value: bytes(2) }]);
    expect(await store.get(bytes(1))).toEqual(bytes(2));
    await store.close();
    const classic = new ClassicLevel(freshDir());
    await classic.open();
    expect(new LevelRegistryStore(classic).kind).toBe('level');
    await classic.close();
  });
});

describe('LevelRegistryStore › own cases', () => {
  it("keeps its rows apart from the user's data, whatever the database's encodings", async () => {
    const db = new Level<string, unknown>(freshDir(), { valueEncoding: 'json' });
    await db.put('user-key', { mine: true });
    await db.put('\x01', 'raw');
    const store = new LevelRegistryStore(db);
    await expectOnlyOwnRows(store);
    expect(await store.get(new TextEncoder().encode('user-key'))).toBeUndefined();
    expect(await store.getMany([bytes(0x01), bytes(0x02), bytes(0xff)])).toEqual([bytes(0xaa, 0x00), undefined, bytes()]);
    expect(await db.get('user-key')).toEqual({ mine: true });
    expect(await db.get('\x01')).toBe('raw');
    await store.close();
    // The user's handle stays theirs: closing the store does not close it.
    expect(db.status).toBe('open');
    expect(await db.get('user-key')).toEqual({ mine: true });
    await db.close();
  });

  it("create: false on a LevelDB database without keyledger rows is ERR_STORE_NOT_FOUND, the user's keys unchanged", async () => {
    const path = join(freshDir(), 'db');
    const db = new Level<string, string>(path);
    await db.put('user-key', 'user-value');
    await db.close();
    await expect(LevelRegistryStore.open(path, { create: false })).rejects.toMatchObject({ code: ErrorCode.STORE_NOT_FOUND });
    const again = new Level<string, string>(path);
    expect(await again.keys().all()).toEqual(['user-key']);
    expect(await again.get('user-key')).toBe('user-value');
    await again.close();
  });

  it('reports ERR_STORE_IO when the database is closed underneath', async () => {
    const db = new Level(freshDir());
    const store = new LevelRegistryStore(db);
    await db.open();
    await db.close();
    await expect(store.write([{ key: bytes(1), value: bytes(1) }])).rejects.toMatchObject({ code: ErrorCode.STORE_IO });
    await expect(store.get(bytes(1))).rejects.toMatchObject({ code: ErrorCode.STORE_IO });
  });
});
