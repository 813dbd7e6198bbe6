import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FileKek } from '../../src/crypto/file-kek.js';
import { wrapFreshDek } from '../../src/crypto/kek.js';

describe('wrapFreshDek', () => {
  it('wraps a fresh 32-byte DEK that the KEK unwraps, a different one each call', async () => {
    const kek = FileKek.fromBytes(randomBytes(32), 'test');
    const [a, b] = [await wrapFreshDek(kek), await wrapFreshDek(kek)];
    const [deka, dekb] = [await kek.unwrap(a), await kek.unwrap(b)];
    expect(deka).toHaveLength(32);
    expect(Buffer.from(deka).equals(Buffer.from(dekb))).toBe(false);
  });

  it('zero-fills the plain DEK once the wrap settled, also when the wrap fails', async () => {
    const seen: Uint8Array[] = [];
    const copying = {
      async wrap(dek: Uint8Array) {
        seen.push(dek);
        return new Uint8Array(dek);
      },
    };
    const wrapped = await wrapFreshDek(copying);
    expect(wrapped.some((b) => b !== 0)).toBe(true);
    expect(seen[0]).toEqual(new Uint8Array(32));
    const failing = {
      async wrap(dek: Uint8Array): Promise<Uint8Array> {
        seen.push(dek);
        throw new Error('kms down');
      },
    };
    await expect(wrapFreshDek(failing)).rejects.toThrow('kms down');
    expect(seen[1]).toEqual(new Uint8Array(32));
  });
});
