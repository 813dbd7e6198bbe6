import { InvalidArgumentError } from 'commander';

const U64_MAX = 0xffff_ffff_ffff_ffffn;

/** A u64 written in decimal or 0x-hex (a node id), or undefined when `text` is not one. */
export function u64Of(text: string): bigint | undefined {
  if (!/^(0x[0-9a-fA-F]{1,16}|[0-9]{1,20})$/.test(text)) return undefined;
  const v = BigInt(text);
  return v <= U64_MAX ? v : undefined;
}

/** A commander argument parser for a positive integer option; `name` is used in the error. */
export function positiveInt(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return n;
  };
}
