import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AdapterErrors, ErrorCode, type StoreLocationRules, prepareStoreLocation } from '../../src/index.js';

const errors = new AdapterErrors('TestStore', 'pass a test handle');
const root = mkdtempSync(join(tmpdir(), 'keyledger-location-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => {
  const dir = join(root, String(n++));
  mkdirSync(dir);
  return dir;
};

const DIRECTORY: StoreLocationRules = { shape: 'directory', marker: 'data.mdb' };
const FILE: StoreLocationRules = { shape: 'file' };

/** The error `prepareStoreLocation` refuses the location with. */
function refusal(path: string, create: boolean, rules: StoreLocationRules): { code: unknown; found: unknown; message: string } {
  try {
    prepareStoreLocation(errors, path, { create }, rules);
  } catch (err) {
    const { code, found, message } = err as { code: unknown; found: unknown; message: string };
    return { code, found, message };
  }
  throw new Error(`${path} was accepted`);
}

describe('prepareStoreLocation › what a refusal found, for callers that word their own message', () => {
  it('ERR_STORE_NOT_FOUND carries what create: true would have made a store of, and creates nothing', () => {
    const dir = freshDir();
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    writeFileSync(join(dir, 'empty.db'), '');
    const cases: [string, StoreLocationRules, string][] = [
      [join(dir, 'none'), DIRECTORY, 'nothing there'],
      [join(dir, 'none.db'), FILE, 'nothing there'],
      [empty, DIRECTORY, 'an empty directory'],
      [join(dir, 'empty.db'), FILE, 'an empty file'],
    ];
    for (const [path, rules, found] of cases) {
      const r = refusal(path, false, rules);
      expect(r, path).toMatchObject({ code: ErrorCode.STORE_NOT_FOUND, found });
      expect(r.message).toContain(`(${found})`);
    }
    expect(readdirSync(dir).sort()).toEqual(['empty', 'empty.db']);
    expect(readdirSync(empty)).toEqual([]);
  });

  it('ERR_UNSUPPORTED_STORE for a path that can never hold a store carries what is there, with or without create', () => {
    const dir = freshDir();
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    const others = join(dir, 'others');
    mkdirSync(others);
    writeFileSync(join(others, 'notes.txt'), 'x');
    const cases: [string, StoreLocationRules, string][] = [
      [fifo, DIRECTORY, 'a FIFO, not a directory'],
      [fifo, FILE, 'a FIFO, not a regular file'],
      ['/dev/null', FILE, 'a character device, not a regular file'],
      [dir, FILE, 'a directory, not a regular file'],
      [file, DIRECTORY, 'a regular file, not a directory'],
      [join(file, 'below'), DIRECTORY, 'under a parent that is not a directory'],
      [others, DIRECTORY, 'a directory of other files without data.mdb, so not a database of this kind'],
    ];
    for (const create of [true, false]) {
      for (const [path, rules, found] of cases) {
        const r = refusal(path, create, rules);
        expect(r, `${path} create: ${create}`).toMatchObject({ code: ErrorCode.UNSUPPORTED_STORE, found });
        expect(r.message).toContain(found);
      }
    }
    expect(readdirSync(others)).toEqual(['notes.txt']);
  });

  it('refusals that are not about the location carry no found: a bad create option', () => {
    expect(refusal(join(freshDir(), 'x'), 'yes' as never, FILE)).toMatchObject({ code: ErrorCode.INVALID_ARGUMENT, found: undefined });
  });
});
