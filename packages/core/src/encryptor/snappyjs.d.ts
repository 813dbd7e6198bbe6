declare module 'snappyjs' {
  /** Snappy block-format compression of `input`. */
  export function compress(input: Uint8Array): Uint8Array;
  /** Decompresses a Snappy block; throws on a malformed stream or one longer than `maxLength`. */
  export function uncompress(input: Uint8Array, maxLength?: number): Uint8Array;
  const snappy: { compress: typeof compress; uncompress: typeof uncompress };
  export default snappy;
}
