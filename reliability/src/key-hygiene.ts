import { inspect } from 'node:util';

/** Every text form a key could leak in: hex (both cases), base64, base64url. */
export function secretForms(secrets: readonly Uint8Array[]): string[] {
  return secrets.flatMap((s) => {
    const b = Buffer.from(s);
    return [b.toString('hex'), b.toString('hex').toUpperCase(), b.toString('base64'), b.toString('base64url').replace(/=+$/, '')];
  });
}

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

/** Raw-byte form: a key's bytes inside a latin1 rendering of the text would also be a leak. */
export function leaks(text: string, secrets: readonly Uint8Array[]): string | undefined {
  for (const form of secretForms(secrets)) if (text.includes(form)) return `${form.slice(0, 8)}…`;
  const latin1 = Buffer.from(text, 'latin1');
  for (const s of secrets) if (latin1.indexOf(Buffer.from(s)) >= 0) return 'raw bytes';
  return undefined;
}
