import { type FileHandle, open, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { CliError } from './cli-error.js';

/**
 * One line of a JSON Lines log: `{"index": "<decimal>", "entry": "<hex>"}`.
 *
 * - `index` is the raft index as a decimal string (a JSON number loses precision past 2^53), a
 *   u64 of at least 1, and strictly greater than the previous line's: a Raft log holds each index
 *   once, in order.
 * - `entry` is the entry's bytes as hex (either case), at least the opcode byte.
 * - Other fields are ignored; blank lines are skipped.
 */
export interface LogRecord {
  /** 1-based line number in the file, for error messages. */
  line: number;
  index: bigint;
  entry: Uint8Array;
}

const U64_MAX = 0xffff_ffff_ffff_ffffn;
const DECIMAL = /^[1-9][0-9]{0,19}$/;
const HEX = /^(?:[0-9a-fA-F]{2})+$/;

/** Why a line is not a log record; `readLog` adds the file and line number. */
function lineProblem(text: string): string | { index: bigint; entry: Uint8Array } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return 'not valid JSON';
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'not a JSON object';
  const { index, entry } = doc as { index?: unknown; entry?: unknown };
  if (index === undefined) return 'missing "index"';
  if (typeof index === 'number') return '"index" is a JSON number; write it as a decimal string ("42"), numbers lose precision past 2^53';
  if (typeof index !== 'string' || !DECIMAL.test(index) || BigInt(index) > U64_MAX) {
    return '"index" must be a decimal string of a raft index in 1..2^64-1';
  }
  if (entry === undefined) return 'missing "entry"';
  if (typeof entry !== 'string' || !HEX.test(entry)) return '"entry" must be a non-empty string of hex byte pairs';
  return { index: BigInt(index), entry: new Uint8Array(Buffer.from(entry, 'hex')) };
}

/**
 * Reads and validates a log line by line, streaming. Throws a {@link CliError} naming the file
 * and line at the first malformed line (bad JSON, bad hex, missing or non-increasing index);
 * records before it have already been yielded.
 */
export async function* readLog(path: string): AsyncGenerator<LogRecord> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new CliError(`cannot read log ${path} (${(err as { code?: string }).code ?? 'error'})`, { cause: err });
  }
  try {
    if (!(await fh.stat()).isFile()) throw new CliError(`log ${path} is not a regular file`);
    const lines = createInterface({ input: fh.createReadStream({ encoding: 'utf8', autoClose: false }), crlfDelay: Infinity });
    let line = 0;
    let previous: bigint | undefined;
    try {
      for await (const text of lines) {
        line++;
        if (text.trim() === '') continue;
        const parsed = lineProblem(text);
        if (typeof parsed === 'string') throw new CliError(`${path}:${line}: malformed log line: ${parsed}`);
        if (previous !== undefined && parsed.index <= previous) {
          throw new CliError(
            `${path}:${line}: malformed log line: index ${parsed.index} does not follow index ${previous} (indices must increase)`,
          );
        }
        previous = parsed.index;
        yield { line, ...parsed };
      }
    } finally {
      lines.close();
    }
  } finally {
    await fh.close();
  }
}

/** Counts the records of a log, validating every line: a malformed log throws before anything is applied. */
export async function scanLog(path: string): Promise<{ records: number; first?: bigint; last?: bigint }> {
  let records = 0;
  let first: bigint | undefined;
  let last: bigint | undefined;
  for await (const r of readLog(path)) {
    records++;
    first ??= r.index;
    last = r.index;
  }
  return { records, ...(first === undefined ? {} : { first }), ...(last === undefined ? {} : { last }) };
}

/** One log line, exactly as `readLog` accepts it. */
export function formatLogLine(index: bigint, entry: Uint8Array): string {
  return JSON.stringify({ index: index.toString(), entry: Buffer.from(entry).toString('hex') });
}

/** Writes a whole log; refuses to overwrite an existing file. */
export async function writeLog(path: string, records: readonly { index: bigint; entry: Uint8Array }[]): Promise<void> {
  const text = records.map((r) => `${formatLogLine(r.index, r.entry)}\n`).join('');
  await writeFile(path, text, { flag: 'wx' });
}
