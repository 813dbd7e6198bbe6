import { ok } from 'node:assert/strict';
import { ErrorCode, MAX_KEY_LENGTH, type RegistryStore } from '../index.js';
import { bytes, rejectsWithCode, sameEntries, scanAll, te } from './assertions.js';
import type { CaseContext, ConformanceCase } from './conformance-case.js';
import type { Capability } from './options.js';

// Rules every operation obeys, stated once and applied to each operation in `operations`: a new
// operation is covered by adding it to the list (in the manner of abstract-level's traits).

interface Operation {
  name: string;
  needs?: readonly Capability[];
  /** A well-formed call. */
  call(store: RegistryStore): Promise<unknown>;
  /** Calls a caller gets wrong, each named. */
  bad: [what: string, call: (store: RegistryStore) => Promise<unknown>][];
}

const drain = async (it: AsyncIterable<unknown>): Promise<void> => {
  for await (const _ of it) void _;
};
const notBytes = 'k' as unknown as Uint8Array;
const tooLong = new Uint8Array(MAX_KEY_LENGTH + 1).fill(0x61);
const put = (key: Uint8Array, value: Uint8Array = bytes(1)) => ({ key, value });

const operations: Operation[] = [
  {
    name: 'get',
    call: (s) => s.get(te('k')),
    bad: [
      ['a string key', (s) => s.get(notBytes)],
      [`a ${MAX_KEY_LENGTH + 1}-byte key`, (s) => s.get(tooLong)],
      ['an empty key', (s) => s.get(new Uint8Array(0))],
    ],
  },
  {
    name: 'getMany',
    needs: ['getMany'],
    call: (s) => s.getMany!([te('k'), te('x')]),
    bad: [
      ['a key that is not an array', (s) => s.getMany!(te('k') as never)],
      ['a string among the keys', (s) => s.getMany!([te('k'), notBytes])],
      [`a ${MAX_KEY_LENGTH + 1}-byte key among the keys`, (s) => s.getMany!([tooLong])],
    ],
  },
  {
    name: 'write',
    call: (s) => s.write([put(te('k2'), bytes(2))]),
    bad: [
      ['puts that are not an array', (s) => s.write(put(te('w')) as never)],
      ['a null put among valid ones', (s) => s.write([put(te('w1')), null as never])],
      ['a string value after valid puts', (s) => s.write([put(te('w1')), put(te('w2')), put(te('w3'), 'v' as never), put(te('w4'))])],
      [`a ${MAX_KEY_LENGTH + 1}-byte key after a valid put`, (s) => s.write([put(te('o1')), put(tooLong)])],
      ['an empty key', (s) => s.write([put(new Uint8Array(0))])],
    ],
  },
  {
    name: 'scan',
    call: (s) => drain(s.scan(te(''))),
    bad: [['a string prefix', (s) => drain(s.scan(notBytes))]],
  },
];

async function storeWithRow(ctx: CaseContext): Promise<RegistryStore> {
  const store = await ctx.open();
  await store.write([put(te('k'))]);
  return store;
}

const afterClose: ConformanceCase[] = operations.map((op) => ({
  group: 'after close',
  name: `${op.name} rejects with ERR_STORE_CLOSED`,
  needs: op.needs,
  catches: 'answers-after-close',
  async run(ctx) {
    const store = await storeWithRow(ctx);
    await store.close();
    await rejectsWithCode(() => op.call(store), ErrorCode.STORE_CLOSED, `${op.name} after close`);
    if (op.name === 'write') await rejectsWithCode(() => store.write([]), ErrorCode.STORE_CLOSED, 'an empty write after close');
  },
}));

const backendFailure: ConformanceCase[] = operations.map((op) => ({
  group: 'backend failure',
  name: `${op.name} on a failed backend rejects with ERR_STORE_IO carrying the backend's error as cause`,
  needs: ['breakBackend', ...(op.needs ?? [])],
  catches: 'raw-backend-errors',
  async run(ctx) {
    const store = await storeWithRow(ctx);
    await ctx.options.breakBackend!(store);
    const err = await rejectsWithCode(() => op.call(store), ErrorCode.STORE_IO, `${op.name} on a broken backend`);
    ok((err as { cause?: unknown }).cause !== undefined, 'ERR_STORE_IO must carry the backend error as cause');
  },
}));

const argumentChecks: ConformanceCase[] = operations.map((op) => ({
  group: 'argument checks',
  name: `${op.name} rejects bad arguments with ERR_INVALID_ARGUMENT and changes nothing`,
  needs: op.needs,
  catches: op.name === 'write' ? 'non-atomic-write' : undefined,
  async run(ctx) {
    const store = await storeWithRow(ctx);
    for (const [what, call] of op.bad) {
      await rejectsWithCode(() => call(store), ErrorCode.INVALID_ARGUMENT, `${op.name} with ${what}`);
      sameEntries(await scanAll(store), [put(te('k'))], `contents after ${op.name} with ${what}`);
    }
  },
}));

export const traitCases: ConformanceCase[] = [
  ...afterClose,
  {
    group: 'after close',
    name: 'close twice resolves',
    async run(ctx) {
      const store = await storeWithRow(ctx);
      await store.close();
      await store.close();
    },
  },
  ...argumentChecks,
  ...backendFailure,
];
