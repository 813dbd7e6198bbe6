import { describe, expect, it } from 'vitest';
import { runConformance } from '../../src/conformance/index.js';
import { BaseRegistryStore, ErrorCode, MemoryRegistryStore, compareBytes, type StoreEntry } from '../../src/index.js';

/** A memory store whose backend hands back what `answer` says instead of the right value. */
class MisbehavingStore extends BaseRegistryStore {
  readonly kind = 'misbehaving';
  readonly #inner = new MemoryRegistryStore();
  constructor(private readonly answer: { get?: unknown; getMany?: unknown; scanReversed?: boolean; scanExtra?: StoreEntry }) {
    super();
  }
  protected async _get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const v = await this.#inner.get(key);
    return v === undefined && 'get' in this.answer ? (this.answer.get as undefined) : v;
  }
  protected override _getMany(keys: readonly Uint8Array[]) {
    return 'getMany' in this.answer ? (this.answer.getMany as Uint8Array[]) : super._getMany(keys);
  }
  protected _write(puts: readonly StoreEntry[]): Promise<void> {
    return this.#inner.write(puts);
  }
  protected async *_scan(prefix: Uint8Array): AsyncIterable<StoreEntry> {
    const rows: StoreEntry[] = [];
    for await (const e of this.#inner.scan(prefix)) rows.push(e);
    if (this.answer.scanReversed) rows.sort((a, b) => compareBytes(b.key, a.key));
    if (this.answer.scanExtra) rows.push(this.answer.scanExtra);
    yield* rows;
  }
  protected _close(): Promise<void> {
    return this.#inner.close();
  }
}

const k = (s: string) => new TextEncoder().encode(s);
const drain = async (it: AsyncIterable<unknown>) => {
  for await (const _ of it) void _;
};

describe('BaseRegistryStore › refuses what a backend must not return', () => {
  it.each([
    ['null', null],
    ['an empty array', []],
    ['a string', 'v'],
  ])('a _get returning %s rejects with ERR_STORE_CONTRACT saying to return undefined for a missing key', async (_, answer) => {
    const store = new MisbehavingStore({ get: answer });
    const err = await store.get(k('missing')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.STORE_CONTRACT });
    expect((err as Error).message).toMatch(/_get returned .*; return a Uint8Array for a present key and undefined \(not null/);
  });

  it('a _getMany returning null among its values, or the wrong number of values, rejects with ERR_STORE_CONTRACT', async () => {
    for (const answer of [[null], [], 'x']) {
      const err = await new MisbehavingStore({ getMany: answer }).getMany([k('a')]).catch((e: unknown) => e);
      expect(err, JSON.stringify(answer)).toMatchObject({ code: ErrorCode.STORE_CONTRACT });
    }
  });

  it('an unsorted _scan rejects with ERR_STORE_CONTRACT: "keys must come in unsigned byte order (see `compareBytes`)"', async () => {
    const store = new MisbehavingStore({ scanReversed: true });
    await store.write([
      { key: k('a'), value: k('1') },
      { key: k('b'), value: k('2') },
    ]);
    const err = await drain(store.scan(k(''))).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.STORE_CONTRACT });
    expect((err as Error).message).toContain('keys must come in unsigned byte order (see `compareBytes`)');
  });

  it('a _scan yielding a key outside the prefix rejects with ERR_STORE_CONTRACT', async () => {
    const store = new MisbehavingStore({ scanExtra: { key: k('zz'), value: k('1') } });
    await expect(drain(store.scan(k('a')))).rejects.toMatchObject({ code: ErrorCode.STORE_CONTRACT });
  });

  it('runConformance reports one failure naming the bug and skips the rest with a pointer to it, not fifty symptoms', async () => {
    const report = await runConformance({ name: 'null-for-missing', open: () => new MisbehavingStore({ get: null }), durable: false });
    const failed = report.cases.filter((c) => c.status === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ code: ErrorCode.STORE_CONTRACT });
    expect(failed[0]!.reason).toMatch(/_get returned null; return a Uint8Array for a present key and undefined/);
    const pointed = report.cases.filter(
      (c) => c.status === 'skipped' && /broke the store contract in "contract › get of a missing key/.test(c.reason ?? ''),
    );
    expect(pointed.length).toBeGreaterThan(20);
  });
});

describe('BaseRegistryStore › calls after close and bad arguments', () => {
  it('every operation after close rejects with ERR_STORE_CLOSED', async () => {
    const store = new MemoryRegistryStore();
    await store.close();
    for (const call of [() => store.get(k('a')), () => store.getMany([k('a')]), () => store.write([]), () => drain(store.scan(k('')))]) {
      await expect(call()).rejects.toMatchObject({ code: ErrorCode.STORE_CLOSED });
    }
  });

  it('bad puts reject with ERR_INVALID_ARGUMENT and write nothing', async () => {
    const store = new MemoryRegistryStore();
    const puts = [
      [{ key: k('a'), value: 'x' }],
      [{ key: new Uint8Array(512), value: k('1') }],
      [{ key: k('ok'), value: k('1') }, null],
      'not an array',
    ];
    for (const p of puts) await expect(store.write(p as never)).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
    await expect(store.get(k('ok'))).resolves.toBeUndefined();
  });
});
