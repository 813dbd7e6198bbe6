import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Level } from 'level';
import { open } from 'lmdb';
import { describe, expect, it } from 'vitest';
import { CODES } from './codes.js';
import { codeOf } from './preamble.js';

// better-sqlite3 ships no types here; only its constructor is needed, as a foreign handle.
const Database = createRequire(import.meta.url)('better-sqlite3') as new (path: string) => { close(): void };

/** A handle of one of the three libraries, opened on a fresh directory; `close` releases it. */
interface ForeignHandle {
  what: string;
  open(dir: string): Promise<{ close(): unknown }>;
}

const HANDLES: Record<'lmdb' | 'level' | 'sqlite', ForeignHandle> = {
  lmdb: { what: 'an lmdb root database', open: async (dir) => open(dir, {}) },
  level: {
    what: 'a Level database',
    open: async (dir) => {
      const db = new Level(dir);
      await db.open();
      return db;
    },
  },
  sqlite: { what: 'a better-sqlite3 Database', open: async (dir) => new Database(join(dir, 'x.db')) },
};

/**
 * The refusals every adapter's constructor shares: nothing (`ERR_NIL_STORE`), a plain object, and
 * the other two libraries' handles (`ERR_UNSUPPORTED_STORE`).
 */
export function describeHandleRefusals(options: {
  name: string;
  /** The library the adapter drives: its own handle is not a foreign one. */
  own: 'lmdb' | 'level' | 'sqlite';
  construct: (handle: unknown) => unknown;
  freshDir: () => string;
}): void {
  const { name, own, construct, freshDir } = options;
  describe(`${name} › construction refusal (shared)`, () => {
    it('refuses null and undefined with ERR_NIL_STORE', () => {
      expect(codeOf(() => construct(null))).toBe(CODES.NIL_STORE);
      expect(codeOf(() => construct(undefined))).toBe(CODES.NIL_STORE);
    });

    it('refuses a plain object', () => {
      expect(codeOf(() => construct({}))).toBe(CODES.UNSUPPORTED_STORE);
    });

    for (const [library, handle] of Object.entries(HANDLES)) {
      if (library === own) continue;
      it(`refuses ${handle.what}`, async () => {
        const h = await handle.open(freshDir());
        try {
          expect(codeOf(() => construct(h))).toBe(CODES.UNSUPPORTED_STORE);
        } finally {
          await h.close();
        }
      });
    }
  });
}
