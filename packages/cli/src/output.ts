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
