import { inspect } from 'node:util';

/** Every text form a key could leak in: hex (both cases), base64, base64url. */
const FORMS = {
  hex: (b: Buffer) => b.toString('hex'),
  HEX: (b: Buffer) => b.toString('hex').toUpperCase(),
  base64: (b: Buffer) => b.toString('base64'),
  base64url: (b: Buffer) => b.toString('base64url').replace(/=+$/, ''),
} as const;

/** Everything an error shows anyone: message, String(), stack and util.inspect, down its cause chain. */
export function errorText(err: unknown): string {
  const parts: string[] = [];
  let cur: unknown = err;
  for (let i = 0; i < 16 && typeof cur === 'object' && cur !== null; i++) {
    const e = cur as Error;
    parts.push(String(e.message), String(e), String(e.stack));
    cur = (cur as { cause?: unknown }).cause;
  }
  parts.push(inspect(err, { depth: 16, showHidden: true }));
  return parts.join('\n');
}

/**
 * Which secret leaked and in which form ("key 2 as base64"), or undefined. Raw bytes inside a
 * latin1 rendering of the text count too. The answer names the key by its position only: a
 * report of a leak must not leak a fragment of the key itself.
 */
export function leaks(text: string, secrets: readonly Uint8Array[]): string | undefined {
  const latin1 = Buffer.from(text, 'latin1');
  for (const [i, secret] of secrets.entries()) {
    const b = Buffer.from(secret);
    for (const [name, form] of Object.entries(FORMS)) if (text.includes(form(b))) return `key ${i} as ${name}`;
    if (latin1.indexOf(b) >= 0) return `key ${i} as raw bytes`;
  }
  return undefined;
}
