import { ok } from 'node:assert/strict';
import { ErrorCode } from '../errors.js';
import type { RegistryStore } from '../store/registry-store.js';
import type { CaseContext, ConformanceCase } from './conformance-case.js';
import { bytes, rejectsWithCode, te } from './case-fixtures.js';

const group = 'store-io';

async function brokenStore(ctx: CaseContext): Promise<RegistryStore> {
  const breakBackend = ctx.options.breakBackend;
  if (!breakBackend) ctx.skip('no breakBackend option: cannot make the backend fail under the store');
  const store = await ctx.open();
  await store.write([{ key: te('k'), value: bytes(1) }]);
  await breakBackend(store);
  return store;
}

function hasCause(err: unknown): void {
  ok((err as { cause?: unknown }).cause !== undefined, 'ERR_STORE_IO must carry the backend error as cause');
}

export const storeIoCases: ConformanceCase[] = [
  {
    group,
    name: 'get on a failed backend rejects with ERR_STORE_IO and a cause',
    async run(ctx) {
      const store = await brokenStore(ctx);
      hasCause(await rejectsWithCode(() => store.get(te('k')), ErrorCode.STORE_IO, 'get on a broken backend'));
    },
  },
  {
    group,
    name: 'write on a failed backend rejects with ERR_STORE_IO and a cause',
    async run(ctx) {
      const store = await brokenStore(ctx);
      hasCause(
        await rejectsWithCode(() => store.write([{ key: te('k2'), value: bytes(2) }]), ErrorCode.STORE_IO, 'write on a broken backend'),
      );
    },
  },
  {
    group,
    name: 'scan on a failed backend rejects with ERR_STORE_IO and a cause',
    async run(ctx) {
      const store = await brokenStore(ctx);
      hasCause(
        await rejectsWithCode(
          async () => {
            for await (const _ of store.scan(te(''))) void _;
          },
          ErrorCode.STORE_IO,
          'scan on a broken backend',
        ),
      );
    },
  },
];
