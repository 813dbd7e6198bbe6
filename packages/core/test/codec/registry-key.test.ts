import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  REGISTRY_KEY_LENGTH,
  REGISTRY_PREFIX,
  decodeRegistryKey,
  encodeRegistryKey,
  isRegistryKey,
  nodeId16,
  registryDekPrefix,
  registryKey,
} from '../../src/index.js';
import { atOffset, concat, decodeOrUndefined, expectCode, u16, u32, u64 } from './support.js';

// biome-ignore format: a byte-layout pin, one wire field per line
const PIN = new Uint8Array([
  0x21, 0x65, 0x6e, 0x63, 0x72, 0x79, 0x70, 0x74, 0x69, 0x6f, 0x6e, 0x7c, // "!encryption|"
  0x77, 0x72, 0x69, 0x74, 0x65, 0x72, 0x73, 0x7c,                         // "writers|"
  0x01, 0x02, 0x03, 0x04,                                                 // dek_id 0x01020304
  0x7c,                                                                   // separator "|" at offset 24
  0x77, 0x88,                                                             // node_id16 0x7788 = low 16 bits of 0x1122334455667788
]);

const FULL_NODE_ID = 0x1122334455667788n;

describe('registry key codec', () => {
  describe('pin', () => {
    it('encodes (0x01020304, 0x1122334455667788) to the literal bytes of docs/design.md, "Registry key"', () => {
      expect(registryKey(0x01020304, FULL_NODE_ID)).toEqual(PIN);
      expect(encodeRegistryKey(0x01020304, 0x7788)).toEqual(PIN);
    });

    it('decodes the literal bytes back', () => {
      expect(decodeRegistryKey(PIN)).toEqual({ dekId: 0x01020304, nodeId16: 0x7788 });
    });

    it('has a 20-byte ASCII prefix and 27 bytes in all', () => {
      expect(REGISTRY_PREFIX).toEqual(new TextEncoder().encode('!encryption|writers|'));
      expect(REGISTRY_PREFIX.length).toBe(20);
      expect(REGISTRY_KEY_LENGTH).toBe(27);
    });

    it('registryDekPrefix is the first 25 bytes of every key of that DEK', () => {
      const prefix = registryDekPrefix(0x01020304);
      expect(prefix.length).toBe(25);
      expect(prefix).toEqual(PIN.slice(0, 25));
      expect(prefix[24]).toBe(0x7c);
    });

    it('decodes a key that sits at an offset inside a larger buffer', () => {
      expect(decodeRegistryKey(atOffset(PIN))).toEqual({ dekId: 0x01020304, nodeId16: 0x7788 });
    });
  });

  describe('nodeId16', () => {
    it('takes the low 16 bits of the full node id', () => {
      expect(nodeId16(FULL_NODE_ID)).toBe(0x7788);
      expect(nodeId16(0n)).toBe(0);
      expect(nodeId16(0xffffn)).toBe(0xffff);
      expect(nodeId16(0x10000n)).toBe(0);
      expect(nodeId16(2n ** 64n - 1n)).toBe(0xffff);
    });

    it('maps two full ids that share their low 16 bits to the same key', () => {
      expect(registryKey(7, 0xaaaa_0000_0000_1234n)).toEqual(registryKey(7, 0x0000_0000_0001_1234n));
    });
  });

  describe('malformed keys', () => {
    it.each([0, 1, 20, 25, 26, 28, 40])('rejects a key of length %i', (n) => {
      const key = new Uint8Array(n);
      key.set(PIN.subarray(0, Math.min(n, PIN.length)));
      expect(isRegistryKey(key)).toBe(false);
      expectCode(() => decodeRegistryKey(key), ErrorCode.REGISTRY_KEY_MALFORMED);
    });

    it('rejects the 27-byte pin with one extra trailing byte', () => {
      expectCode(() => decodeRegistryKey(concat(PIN, [0x00])), ErrorCode.REGISTRY_KEY_MALFORMED);
    });

    it('rejects a wrong prefix at every prefix position', () => {
      for (let i = 0; i < 20; i++) {
        const key = new Uint8Array(PIN);
        key[i] = key[i]! ^ 0x20;
        expect(isRegistryKey(key), `prefix byte ${i}`).toBe(false);
        expectCode(() => decodeRegistryKey(key), ErrorCode.REGISTRY_KEY_MALFORMED);
      }
    });

    it('rejects every separator byte other than "|" at offset 24', () => {
      for (let v = 0; v < 256; v++) {
        if (v === 0x7c) continue;
        const key = new Uint8Array(PIN);
        key[24] = v;
        expect(isRegistryKey(key)).toBe(false);
        expectCode(() => decodeRegistryKey(key), ErrorCode.REGISTRY_KEY_MALFORMED);
      }
    });

    it('rejects the state key, which shares the "!encryption|" namespace', () => {
      expectCode(() => decodeRegistryKey(new TextEncoder().encode('!encryption|state')), ErrorCode.REGISTRY_KEY_MALFORMED);
    });

    it('rejects a value that is not a Uint8Array', () => {
      for (const v of [null, undefined, 'x', Array.from(PIN)]) {
        expectCode(() => decodeRegistryKey(v as never), ErrorCode.REGISTRY_KEY_MALFORMED);
      }
    });
  });

  describe('encode range checks', () => {
    it.each([-1, 2 ** 32, 1.5, Number.NaN, Infinity])('rejects dek_id %s', (dek) => {
      expectCode(() => encodeRegistryKey(dek, 1), ErrorCode.INVALID_ARGUMENT);
      expectCode(() => registryKey(dek, 1n), ErrorCode.INVALID_ARGUMENT);
      expectCode(() => registryDekPrefix(dek), ErrorCode.INVALID_ARGUMENT);
    });

    it.each([-1, 0x10000, 0.5, Number.NaN])('rejects node_id16 %s', (slot) => {
      expectCode(() => encodeRegistryKey(1, slot), ErrorCode.INVALID_ARGUMENT);
    });

    it.each([-1n, 2n ** 64n, -(2n ** 64n)])('rejects full_node_id %s rather than truncating it to a slot', (id) => {
      expectCode(() => registryKey(1, id), ErrorCode.INVALID_ARGUMENT);
    });

    it('accepts the edges 0 and the maxima', () => {
      expect(decodeRegistryKey(encodeRegistryKey(0, 0))).toEqual({ dekId: 0, nodeId16: 0 });
      expect(decodeRegistryKey(encodeRegistryKey(0xffff_ffff, 0xffff))).toEqual({ dekId: 0xffff_ffff, nodeId16: 0xffff });
      expect(decodeRegistryKey(registryKey(0xffff_ffff, 2n ** 64n - 1n))).toEqual({ dekId: 0xffff_ffff, nodeId16: 0xffff });
    });
  });

  describe('properties', () => {
    it('decode(encode(dek, slot)) is (dek, slot)', () => {
      fc.assert(
        fc.property(u32, u16, (dekId, slot) => {
          expect(decodeRegistryKey(encodeRegistryKey(dekId, slot))).toEqual({ dekId, nodeId16: slot });
        }),
        { numRuns: 1000 },
      );
    });

    it('registryKey(dek, id) is encodeRegistryKey(dek, id & 0xFFFF) and starts with registryDekPrefix(dek)', () => {
      fc.assert(
        fc.property(u32, u64, (dekId, id) => {
          const key = registryKey(dekId, id);
          expect(key).toEqual(encodeRegistryKey(dekId, Number(id & 0xffffn)));
          expect(key.subarray(0, 25)).toEqual(registryDekPrefix(dekId));
        }),
        { numRuns: 1000 },
      );
    });

    it('encode(decode(bytes)) is bytes for every well-shaped key', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 2, maxLength: 2 }), (dek, slot) => {
          const bytes = concat(REGISTRY_PREFIX, dek, [0x7c], slot);
          const k = decodeRegistryKey(bytes);
          expect(encodeRegistryKey(k.dekId, k.nodeId16)).toEqual(bytes);
        }),
        { numRuns: 1000 },
      );
    });

    it('random bytes either decode to a key that re-encodes identically or raise ERR_REGISTRY_KEY_MALFORMED', () => {
      const arb = fc.oneof(
        fc.uint8Array({ maxLength: 40 }),
        fc.uint8Array({ minLength: 7, maxLength: 7 }).map((tail) => concat(REGISTRY_PREFIX, tail)),
      );
      fc.assert(
        fc.property(arb, (bytes) => {
          const k = decodeOrUndefined(decodeRegistryKey, bytes);
          if (k === undefined) {
            expectCode(() => decodeRegistryKey(bytes), ErrorCode.REGISTRY_KEY_MALFORMED);
            expect(isRegistryKey(bytes)).toBe(false);
          } else {
            expect(encodeRegistryKey(k.dekId, k.nodeId16)).toEqual(bytes);
          }
        }),
        { numRuns: 1000 },
      );
    });
  });
});
