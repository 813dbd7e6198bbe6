import { createCipheriv, createDecipheriv } from 'node:crypto';
import snappy from 'snappyjs';
import { describe, expect, it } from 'vitest';
import { compressBlock, decompressBlock } from '../../src/encryptor/snappy.js';
import { ENVELOPE_OVERHEAD, ErrorCode, NonceFactory, decodeEnvelope, encodeEnvelope, raftAad, storageAad } from '../../src/index.js';
import { rejectsWith } from './support.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('NonceFactory (elastickv nonce_factory_test.go)', () => {
  it('layout: node_id16 ‖ local_epoch ‖ write_count, the first count is 1', () => {
    const f = new NonceFactory(0xabcd, 0x0007);
    expect(hex(f.next())).toBe('abcd0007' + '0000000000000001');
    expect(hex(f.next())).toBe('abcd0007' + '0000000000000002');
    expect(f.writeCount).toBe(2n);
  });

  it('distinct epochs are disjoint; a run is unique', () => {
    const seen = new Set<string>();
    for (const epoch of [1, 2]) {
      const f = new NonceFactory(0x0001, epoch);
      for (let i = 0; i < 1000; i++) seen.add(hex(f.next()));
    }
    expect(seen.size).toBe(2000);
  });

  it('write count overflow latches ERR_WRITE_COUNT_EXHAUSTED (elastickv nonce_factory_internal_test.go)', async () => {
    const f = new NonceFactory(0xabcd, 0x0001, { writeCount: 0xffff_ffff_ffff_fffen });
    expect(hex(f.next())).toBe('abcd0001ffffffffffffffff');
    for (let i = 0; i < 3; i++) await rejectsWith(() => f.next(), ErrorCode.WRITE_COUNT_EXHAUSTED);
    const saturated = new NonceFactory(1, 1, { writeCount: 0xffff_ffff_ffff_ffffn });
    await rejectsWith(() => saturated.next(), ErrorCode.WRITE_COUNT_EXHAUSTED);
  });

  it('bad arguments are ERR_INVALID_ARGUMENT', async () => {
    await rejectsWith(() => new NonceFactory(0x10000, 1), ErrorCode.INVALID_ARGUMENT);
    await rejectsWith(() => new NonceFactory(1, -1), ErrorCode.INVALID_ARGUMENT);
    await rejectsWith(() => new NonceFactory(1, 1, { writeCount: -1n }), ErrorCode.INVALID_ARGUMENT);
  });
});

describe('envelope (elastickv envelope_test.go, raft_envelope_test.go)', () => {
  it('header AAD layout: version ‖ flag ‖ key_id (TestHeaderAADBytes_Layout), then the context', () => {
    expect([...storageAad(0x01, 0x12345678, new Uint8Array(0))]).toEqual([0x01, 0x01, 0x12, 0x34, 0x56, 0x78]);
    expect([...storageAad(0x00, 0xdeadbeef, Uint8Array.from([0xaa, 0xbb]))]).toEqual([0x01, 0x00, 0xde, 0xad, 0xbe, 0xef, 0xaa, 0xbb]);
  });

  it("raft AAD: 'R' ‖ 0x01 ‖ key_id (TestBuildRaftAAD)", () => {
    expect([...raftAad(0xcafebabe)]).toEqual([0x52, 0x01, 0xca, 0xfe, 0xba, 0xbe]);
  });

  it('too short is ERR_ENVELOPE_SHORT whatever the version byte (TestEnvelope_Decode_TooShort, ShortInputRejected)', async () => {
    for (const n of [0, 1, 17, 18, 33]) {
      const buf = new Uint8Array(n);
      if (n > 0) buf[0] = 0x01;
      await rejectsWith(() => decodeEnvelope(buf), ErrorCode.ENVELOPE_SHORT);
      await rejectsWith(() => decodeEnvelope(new Uint8Array(n)), ErrorCode.ENVELOPE_SHORT);
    }
  });

  it('unknown versions are ERR_ENVELOPE_VERSION (TestEnvelope_Decode_RejectsUnknownVersion)', async () => {
    for (const v of [0x00, 0x02, 0x10, 0xfe, 0xff]) {
      const buf = new Uint8Array(ENVELOPE_OVERHEAD);
      buf[0] = v;
      await rejectsWith(() => decodeEnvelope(buf), ErrorCode.ENVELOPE_VERSION);
    }
  });

  it('reserved flag bits are ERR_ENVELOPE_FLAGS, on decode and encode', async () => {
    for (const flag of [0x02, 0x80, 0xff]) {
      const buf = new Uint8Array(ENVELOPE_OVERHEAD);
      buf[0] = 1;
      buf[1] = flag;
      await rejectsWith(() => decodeEnvelope(buf), ErrorCode.ENVELOPE_FLAGS);
      await rejectsWith(
        () => encodeEnvelope({ flag, keyId: 1, nonce: new Uint8Array(12), sealed: new Uint8Array(16) }),
        ErrorCode.ENVELOPE_FLAGS,
      );
    }
  });

  it('round trip, byte for byte, without aliasing (TestEnvelope_RoundTrip, DoesNotAliasInput)', () => {
    const nonce = Uint8Array.from({ length: 12 }, (_, i) => i + 1);
    const sealed = new Uint8Array(64 + 16).fill(0x55);
    const bytes = encodeEnvelope({ flag: 1, keyId: 0x01020304, nonce, sealed });
    expect(hex(bytes.subarray(0, 18))).toBe('0101' + '01020304' + '0102030405060708090a0b0c');
    expect(bytes.length).toBe(18 + 80);
    const d = decodeEnvelope(bytes);
    bytes.fill(0);
    expect(d).toEqual({ flag: 1, keyId: 0x01020304, nonce, sealed });
  });

  it('a vector sealed with plain node:crypto from the layout decodes and opens', () => {
    const key = Buffer.alloc(32, 0x42);
    const nonce = Buffer.from('0a010002' + '0000000000000001', 'hex');
    const context = Buffer.from('user/17');
    const aad = Buffer.concat([storageAad(0, 7, context)]);
    const c = createCipheriv('aes-256-gcm', key, nonce);
    c.setAAD(aad);
    const body = Buffer.concat([c.update('secret'), c.final(), c.getAuthTag()]);
    const env = decodeEnvelope(new Uint8Array(Buffer.concat([Buffer.from('0100' + '00000007', 'hex'), nonce, body])));
    expect(env.keyId).toBe(7);
    const d = createDecipheriv('aes-256-gcm', key, env.nonce);
    d.setAAD(storageAad(env.flag, env.keyId, context));
    d.setAuthTag(env.sealed.subarray(env.sealed.length - 16));
    expect(Buffer.concat([d.update(env.sealed.subarray(0, env.sealed.length - 16)), d.final()]).toString()).toBe('secret');
  });
});

describe('Snappy block format (flag bit 0)', () => {
  it('decodes hand-assembled Go snappy.Encode blocks: a literal, and a literal plus a copy', () => {
    // varint length 5 ‖ literal tag (5-1)<<2 ‖ "hello"
    expect(Buffer.from(decompressBlock(Buffer.from('0510' + '68656c6c6f', 'hex'), 1024)).toString()).toBe('hello');
    // varint 9 ‖ literal "abc" ‖ copy-1: len 6, offset 3 → tag ((6-4)<<2)|1 = 0x09, offset 0x03
    expect(Buffer.from(decompressBlock(Buffer.from('0908616263' + '0903', 'hex'), 1024)).toString()).toBe('abcabcabc');
  });

  it('round-trips and refuses garbage and oversized length prefixes with ERR_INTEGRITY', async () => {
    const plain = new TextEncoder().encode('keyledger '.repeat(100));
    expect(decompressBlock(compressBlock(plain), plain.length)).toEqual(plain);
    expect(snappy.uncompress(compressBlock(plain))).toEqual(plain);
    await rejectsWith(() => decompressBlock(Uint8Array.from([0x05, 0xff]), 1024), ErrorCode.INTEGRITY);
    await rejectsWith(() => decompressBlock(Uint8Array.from([0xff, 0xff, 0xff, 0x7f, 0x00]), 1024), ErrorCode.INTEGRITY);
  });
});
