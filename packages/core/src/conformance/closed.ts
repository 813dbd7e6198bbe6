import { ErrorCode } from '../errors.js';
import type { RegistryStore } from '../store/registry-store.js';
import type { ConformanceCase } from './conformance-case.js';
import { bytes, rejectsWithCode, te } from './case-fixtures.js';

const group = 'closed';

async function closedStore(open: () => Promise<RegistryStore>): Promise<RegistryStore> {
  const store = await open();
  await store.write([{ key: te('k'), value: bytes(1) }]);
  await store.close();
  return store;
}

export const closedCases: ConformanceCase[] = [
  {
    group,
    name: 'get after close rejects with ERR_UNSUPPORTED_STORE',
    async run(ctx) {
      const store = await closedStore(() => ctx.open());
      await rejectsWithCode(() => store.get(te('k')), ErrorCode.UNSUPPORTED_STORE, 'get after close');
    },
  },
  {
    group,
    name: 'write after close rejects with ERR_UNSUPPORTED_STORE',
    async run(ctx) {
      const store = await closedStore(() => ctx.open());
      await rejectsWithCode(() => store.write([{ key: te('k2'), value: bytes(2) }]), ErrorCode.UNSUPPORTED_STORE, 'write after close');
      await rejectsWithCode(() => store.write([]), ErrorCode.UNSUPPORTED_STORE, 'empty write after close');
    },
  },
  {
    group,
    name: 'scan after close rejects with ERR_UNSUPPORTED_STORE',
    async run(ctx) {
      const store = await closedStore(() => ctx.open());
      await rejectsWithCode(
        async () => {
          for await (const _ of store.scan(te(''))) void _;
        },
        ErrorCode.UNSUPPORTED_STORE,
        'scan after close',
      );
    },
  },
  {
    group,
    name: 'getMany after close rejects with ERR_UNSUPPORTED_STORE',
    async run(ctx) {
      const store = await closedStore(() => ctx.open());
      if (!store.getMany) ctx.skip('the store does not offer getMany');
      await rejectsWithCode(() => store.getMany!([te('k')]), ErrorCode.UNSUPPORTED_STORE, 'getMany after close');
    },
  },
  {
    group,
    name: 'close twice resolves',
    async run(ctx) {
      const store = await closedStore(() => ctx.open());
      await store.close();
    },
  },
];
