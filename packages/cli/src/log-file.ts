import type { FileHandle } from 'node:fs/promises';
import { CliError } from './cli-error.js';
import { openRegularFile, writeFileAtomically } from './files.js';

/**
 * One line of a JSON Lines log: `{"index": "<decimal>", "entry": "<hex>"}`.
 *
 * - `index` is the raft index as a decimal string (a JSON number loses precision past 2^53), a
 *   u64 of at least 1, and strictly greater than the previous line's: a Raft log holds each index
 *   once, in order.
 * - `entry` is the entry's bytes as hex (either case), at least the opcode byte.
 * - `time`, optional: the RFC 3339 time the entry was proposed at. A bootstrap or rotation that
 *   carries one records it as its key's `created`, so a replay reproduces the original state.
 * - Other fields are ignored; blank lines are skipped.
 */
export interface LogRecord {
  /** 1-based line number in the file, for error messages. */
  line: number;
  index: bigint;
  entry: Uint8Array;
  time?: Date;
}

/**
 * The longest line accepted, in bytes. The largest legal entry (a bootstrap with the most
 * registrations a batch may hold) is about 230 KB, 460 KB as hex; a longer line is not a log
 * line, and reading it whole would only exhaust memory.
 */
export const MAX_LINE_BYTES = 1024 * 1024;

const U64_MAX = 0xffff_ffff_ffff_ffffn;
const DECIMAL = /^[1-9][0-9]{0,19}$/;
const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

/** Why a line is not a log record; `records` adds the file and line number. */
function lineProblem(text: string): string | Omit<LogRecord, 'line'> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return 'not valid JSON';
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'not a JSON object';
  const { index, entry, time } = doc as { index?: unknown; entry?: unknown; time?: unknown };
  if (index === undefined) return 'missing "index"';
  if (typeof index === 'number') return '"index" is a JSON number; write it as a decimal string ("42"), numbers lose precision past 2^53';
  if (typeof index !== 'string' || !DECIMAL.test(index) || BigInt(index) > U64_MAX) {
    return '"index" must be a decimal string of a raft index in 1..2^64-1';
  }
  if (entry === undefined) return 'missing "entry"';
  if (typeof entry !== 'string' || !HEX.test(entry)) return '"entry" must be a non-empty string of hex byte pairs';
  if (time !== undefined && (typeof time !== 'string' || !RFC3339.test(time) || Number.isNaN(Date.parse(time)))) {
    return '"time" must be an RFC 3339 date-time string ("2025-01-01T00:01:00.000Z")';
  }
  return {
    index: BigInt(index),
    entry: new Uint8Array(Buffer.from(entry, 'hex')),
    ...(time === undefined ? {} : { time: new Date(time as string) }),
  };
}

/**
 * A log as it was when the command started: the file is opened once and read up to the size it
 * had then, so lines appended while `replay` runs are neither validated nor applied, and the
 * validating pass and the applying pass read the same bytes.
 */
export class LogSnapshot {
  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    /** Bytes in the snapshot: the file's size when it was opened. */
    readonly size: number,
  ) {}

  /** Opens the log; a FIFO, device or directory is refused without blocking. */
  static async open(path: string): Promise<LogSnapshot> {
    const fh = await openRegularFile(path, 'log');
    return new LogSnapshot(path, fh, (await fh.stat()).size);
  }

  /** Lines of the snapshot as byte buffers, without their line ends; a line over the cap throws. */
  private async *lines(onBytes?: (done: number) => void): AsyncGenerator<Buffer> {
    if (this.size === 0) return;
    const stream = this.fh.createReadStream({ start: 0, end: this.size - 1, autoClose: false, highWaterMark: 256 * 1024 });
    let pending: Buffer[] = [];
    let pendingLength = 0;
    let line = 0;
    let done = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let from = 0;
      for (let nl = chunk.indexOf(10, from); nl !== -1; nl = chunk.indexOf(10, from)) {
        line++;
        if (pendingLength + nl - from > MAX_LINE_BYTES) this.tooLong(line);
        yield pending.length === 0 ? chunk.subarray(from, nl) : Buffer.concat([...pending, chunk.subarray(from, nl)]);
        pending = [];
        pendingLength = 0;
        from = nl + 1;
      }
      pending.push(chunk.subarray(from));
      pendingLength += chunk.length - from;
      if (pendingLength > MAX_LINE_BYTES) this.tooLong(line + 1);
      done += chunk.length;
      onBytes?.(done);
    }
    if (pendingLength > 0) yield Buffer.concat(pending);
  }

  private tooLong(line: number): never {
    throw new CliError(`${this.path}:${line}: malformed log line: longer than ${MAX_LINE_BYTES} bytes (no legal entry is that long)`);
  }

  /**
   * The records of the snapshot, validated line by line. Throws a {@link CliError} naming the
   * file and line at the first malformed line (bad JSON, bad hex, missing or non-increasing
   * index, too long); records before it have already been yielded.
   */
  async *records(onBytes?: (done: number) => void): AsyncGenerator<LogRecord> {
    let line = 0;
    let previous: bigint | undefined;
    for await (const bytes of this.lines(onBytes)) {
      line++;
      const text = bytes.toString('utf8').replace(/\r$/, '');
      if (text.trim() === '') continue;
      const parsed = lineProblem(text);
      if (typeof parsed === 'string') throw new CliError(`${this.path}:${line}: malformed log line: ${parsed}`);
      if (previous !== undefined && parsed.index <= previous) {
        throw new CliError(
          `${this.path}:${line}: malformed log line: index ${parsed.index} does not follow index ${previous} (indices must increase)`,
        );
      }
      previous = parsed.index;
      yield { line, ...parsed };
    }
  }

  /** Counts the records, validating every line: a malformed log throws before anything is applied. */
  async count(onBytes?: (done: number) => void): Promise<number> {
    let records = 0;
    for await (const _ of this.records(onBytes)) records++;
    return records;
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** One log line, exactly as {@link LogSnapshot.records} accepts it. */
export function formatLogLine(index: bigint, entry: Uint8Array, time?: Date): string {
  return JSON.stringify({
    index: index.toString(),
    entry: Buffer.from(entry).toString('hex'),
    ...(time === undefined ? {} : { time: time.toISOString() }),
  });
}

/** Writes a whole log (mode 0600, atomically); refuses to overwrite an existing file. */
export async function writeLog(path: string, records: readonly { index: bigint; entry: Uint8Array; time?: Date }[]): Promise<void> {
  const text = records.map((r) => `${formatLogLine(r.index, r.entry, r.time)}\n`).join('');
  await writeFileAtomically(path, text, { overwrite: false });
}
