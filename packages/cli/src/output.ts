import Table from 'cli-table3';
import pc from 'picocolors';
import { isKeyledgerError, reasonCode } from '@keyledger/core';

export type Colors = ReturnType<typeof pc.createColors>;

/**
 * Colour is on only for a terminal, and never when `NO_COLOR` is set to a non-empty value
 * (https://no-color.org). `FORCE_COLOR` (non-empty, not "0") turns it on for a pipe.
 */
export function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

/** One output stream with the colours that suit it. */
export class Output {
  readonly c: Colors;

  constructor(readonly stream: NodeJS.WriteStream) {
    this.c = pc.createColors(colorEnabled(stream));
  }

  get isTTY(): boolean {
    return this.stream.isTTY === true;
  }

  line(text = ''): void {
    this.stream.write(`${text}\n`);
  }
}

export const stdout = new Output(process.stdout);
export const stderr = new Output(process.stderr);

/**
 * A reader that goes away (`keyledger inspect | head -3`) ends the command quietly with exit 0,
 * as `rg` and friends do: no EPIPE stack trace. Stores are crash-safe, so stopping mid-command
 * leaves every committed write in place.
 */
export function endQuietlyOnClosedOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(stream === process.stdout ? 0 : (process.exitCode ?? 0));
      throw err;
    });
  }
}

/** The version of every `--json` document's shape: it changes only when a field changes meaning or goes away. */
export const JSON_FORMAT_VERSION = 1;

/** A `--json` document: one line, with the format version first. */
export function jsonLine(doc: Record<string, unknown>, pretty = false): string {
  return escapeC1(JSON.stringify({ version: JSON_FORMAT_VERSION, ...doc }, null, pretty ? 2 : undefined));
}

// C0 controls, DEL, C1 controls (U+009B is a CSI on many terminals), line/paragraph separators
// and the bidi overrides that reorder what is shown.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// What JSON.stringify leaves raw of the above (it escapes C0 itself).
const UNPRINTABLE_IN_JSON = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const uEscape = (ch: string): string => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** A stored string as it may be shown on a terminal: control and bidi characters as `\uXXXX`. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, uEscape);
}

/** JSON text with the characters JSON.stringify leaves raw escaped too (still the same JSON value). */
export function escapeC1(json: string): string {
  return json.replace(UNPRINTABLE_IN_JSON, uEscape);
}

/** An aligned table with box borders. Colour, if any, is already in the cells. */
export function renderTable(head: string[], rows: string[][], align: ('left' | 'right')[]): string {
  const table = new Table({ head, colAligns: align, style: { head: [], border: [], compact: true } });
  table.push(...rows);
  return table.toString();
}

/** The most specific keyledger error in the chain: its code and message are the reason for a halt. */
export function reasonOf(err: unknown): { code: string | undefined; message: string } {
  const code = reasonCode(err);
  const seen = new Set<unknown>();
  let cur: unknown = err;
  let message = err instanceof Error ? err.message : String(err);
  while (typeof cur === 'object' && cur !== null && !seen.has(cur)) {
    seen.add(cur);
    if (isKeyledgerError(cur) && cur.code === code) message = cur.message;
    cur = (cur as { cause?: unknown }).cause;
  }
  return { code, message };
}

/**
 * One line for the error, then one per cause not already shown (an OS or backend error, or the
 * keyledger error behind a CLI message), so the operator sees why a file or store could not be
 * opened. Keyledger messages never hold key material.
 */
export function formatError(err: unknown): string[] {
  const shown = new Set<unknown>();
  const lines: string[] = [];
  if (isKeyledgerError(err)) {
    const { code, message } = reasonOf(err);
    lines.push(`${code}: ${message}`);
    // The reason's own error is already on the first line.
    for (let cur: unknown = err; typeof cur === 'object' && cur !== null && !shown.has(cur); cur = (cur as { cause?: unknown }).cause) {
      shown.add(cur);
      if (isKeyledgerError(cur) && cur.code === code) break;
    }
  } else {
    lines.push(err instanceof Error ? err.message : String(err));
    shown.add(err);
  }
  const visited = new Set<unknown>([err]);
  let cur = (err as { cause?: unknown } | null)?.cause;
  while (typeof cur === 'object' && cur !== null && !visited.has(cur) && lines.length < 5) {
    visited.add(cur);
    if (!shown.has(cur)) {
      if (isKeyledgerError(cur)) lines.push(`  caused by: ${cur.code}: ${cur.message}`);
      else if (cur instanceof Error) lines.push(`  caused by: ${cur.message}`);
    }
    cur = (cur as { cause?: unknown }).cause;
  }
  return lines;
}

/** 0x-prefixed, zero-padded lowercase hex of an unsigned integer. */
export function hex(value: bigint | number, digits: number): string {
  return `0x${value.toString(16).padStart(digits, '0')}`;
}
