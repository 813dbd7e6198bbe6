import { describe, expect, it } from 'vitest';
import { getManyHandedOver, writeHandedOver } from '../../src/store/base-registry-store.js';
import { BaseRegistryStore, ErrorCode, MemoryRegistryStore, type RegistryStore, type StoreEntry } from '../../src/index.js';

/** Records the buffers its backend methods receive. */
class RecordingStore extends BaseRegistryStore {
  readonly kind = 'recording';
  readonly inner = new MemoryRegistryStore();
  written: (readonly StoreEntry[])[] = [];
  read: (readonly Uint8Array[])[] = [];
  protected _get(key: Uint8Array) {
    return this.inner.get(key);
  }
  protected override _getMany(keys: readonly Uint8Array[]) {
    this.read.push(keys);
    return this.inner.getMany(keys);
  }
  protected _write(puts: readonly StoreEntry[]) {
    this.written.push(puts);
    return this.inner.write(puts);
  }
  protected _scan(prefix: Uint8Array) {
    return this.inner.scan(prefix);
  }
  protected _close() {
    return this.inner.close();
  }
}

const k = (s: string) => new TextEncoder().encode(s);

/** What `f` throws (undefined when it returns). */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('handed-over store calls (the applier’s own buffers)', () => {
  it('write › the public call copies; the handed-over one passes the caller’s entries through, with the same effect', async () => {
    const store = new RecordingStore();
    const puts = [{ key: k('a'), value: k('1') }];
    await store.write(puts);
    expect(store.written[0]![0]!.key).not.toBe(puts[0]!.key);
    const handed = [{ key: k('b'), value: k('2') }];
    await writeHandedOver(store, handed);
    expect(store.written[1]).toBe(handed);
    expect(await store.get(k('b'))).toEqual(k('2'));
  });

  it('getMany › keys pass through uncopied; values still come back as copies', async () => {
    const store = new RecordingStore();
    await store.write([{ key: k('a'), value: k('1') }]);
    const keys = [k('a'), k('z')];
    const values = await getManyHandedOver(store, keys);
    expect(store.read[0]).toBe(keys);
    expect(values).toEqual([k('1'), undefined]);
  });

  it('keeps every check: a closed store and a bad put are refused, at once (the applier is inside its try)', async () => {
    const store = new RecordingStore();
    expect(thrown(() => writeHandedOver(store, [{ key: 'x', value: k('1') } as unknown as StoreEntry]))).toMatchObject({
      code: ErrorCode.INVALID_ARGUMENT,
    });
    await store.close();
    expect(thrown(() => writeHandedOver(store, [{ key: k('a'), value: k('1') }]))).toMatchObject({ code: ErrorCode.STORE_CLOSED });
    expect(thrown(() => getManyHandedOver(store, [k('a')]))).toMatchObject({ code: ErrorCode.STORE_CLOSED });
    expect(store.written).toEqual([]);
  });

  it('answer at once over a synchronous backend (no turn of the microtask queue), with a promise over an asynchronous one', async () => {
    const sync = new MemoryRegistryStore();
    expect(writeHandedOver(sync, [{ key: k('a'), value: k('1') }])).toBeUndefined();
    expect(getManyHandedOver(sync, [k('a'), k('b')])).toEqual([k('1'), undefined]);
    const failing = new (class extends MemoryRegistryStore {
      protected override _write(): void {
        throw new Error('disk full');
      }
    })();
    expect(thrown(() => writeHandedOver(failing, [{ key: k('a'), value: k('1') }]))).toMatchObject({ code: ErrorCode.STORE_IO });
    const async = new RecordingStore();
    const writing = writeHandedOver(async, [{ key: k('a'), value: k('1') }]);
    expect(writing).toBeInstanceOf(Promise);
    await writing;
    const reading = getManyHandedOver(async, [k('a')]);
    expect(reading).toBeInstanceOf(Promise);
    expect(await reading).toEqual([k('1')]);
  });

  it('a subclass that overrides write or getMany gets its own method called', async () => {
    const calls: string[] = [];
    class Overriding extends RecordingStore {
      override write(puts: readonly StoreEntry[]) {
        calls.push('write');
        return super.write(puts);
      }
      override getMany(keys: readonly Uint8Array[]) {
        calls.push('getMany');
        return super.getMany(keys);
      }
    }
    const store = new Overriding();
    const handed = [{ key: k('a'), value: k('1') }];
    await writeHandedOver(store, handed);
    await getManyHandedOver(store, [k('a')]);
    expect(calls).toEqual(['write', 'getMany']);
    expect(store.written[0]).not.toBe(handed);
  });

  it('a store of another kind gets its ordinary calls', async () => {
    const inner = new MemoryRegistryStore();
    const calls: string[] = [];
    const store: RegistryStore = {
      kind: 'plain',
      get: (key) => {
        calls.push('get');
        return inner.get(key);
      },
      write: (puts) => {
        calls.push('write');
        return inner.write(puts);
      },
      scan: (prefix) => inner.scan(prefix),
      close: () => inner.close(),
    } as RegistryStore;
    await writeHandedOver(store, [{ key: k('a'), value: k('1') }]);
    expect(await getManyHandedOver(store, [k('a'), k('b')])).toEqual([k('1'), undefined]);
    expect(calls).toEqual(['write', 'get', 'get']);
  });
});
