import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** reliability/powerloss, from src/ or from dist/. */
const sourceDir = resolve(here, '..', 'powerloss');

/**
 * Builds powerloss.so with the machine's C compiler (cached by source mtime) and returns its
 * path. Throws when no compiler is available: the power-loss campaign cannot run without it.
 */
export function buildPowerLoss(): string {
  const src = join(sourceDir, 'powerloss.c');
  const out = join(sourceDir, 'build', 'powerloss.so');
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(src).mtimeMs) return out;
  mkdirSync(dirname(out), { recursive: true });
  const cc = process.env.CC ?? 'cc';
  execFileSync(cc, ['-O2', '-Wall', '-shared', '-fPIC', '-o', out, src, '-ldl', '-lpthread'], { stdio: ['ignore', 'ignore', 'pipe'] });
  return out;
}

/** Environment for a child whose writes under `dir` are to be undoable by {@link restorePowerLoss}. */
export function powerLossEnv(library: string, dir: string, undoLog: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    LD_PRELOAD: library,
    POWERLOSS_DIR: dir,
    POWERLOSS_LOG: undoLog,
    // libuv's io_uring path would bypass the interposed calls; the stores use plain syscalls anyway.
    UV_USE_IO_URING: '0',
  };
}

type Pending = { kind: 'U'; seq: bigint; off: number; oldSize: number; pre: Buffer } | { kind: 'K'; seq: bigint; off: number; len: number };

export interface RestoreStats {
  /** Files rolled back to their last synced content. */
  files: number;
  /** Undo records applied (writes that had not been synced). */
  undone: number;
  /** Bytes of pre-images written back. */
  bytes: number;
  /** Files with pending records that no longer exist (their directory entries are not modelled). */
  missing: number;
}

/**
 * The power cut: rolls every file the child wrote back to its content as of its last completed
 * sync, from the undo log powerloss.so kept. Run only after the child is dead.
 */
export function restorePowerLoss(undoLog: string): RestoreStats {
  const stats: RestoreStats = { files: 0, undone: 0, bytes: 0, missing: 0 };
  if (!existsSync(undoLog)) return stats;
  const buf = readFileSync(undoLog);
  const paths = new Map<number, string>();
  const pending = new Map<number, Pending[]>();
  const list = (id: number): Pending[] => {
    let l = pending.get(id);
    if (!l) {
      l = [];
      pending.set(id, l);
    }
    return l;
  };
  let p = 0;
  // A record cut short by the kill was never followed by its write, so it is simply dropped.
  const need = (n: number): boolean => p + n <= buf.length;
  while (p < buf.length) {
    const t = String.fromCharCode(buf[p]!);
    p += 1;
    if (t === 'P') {
      if (!need(8)) break;
      const id = buf.readUInt32LE(p);
      const len = buf.readUInt32LE(p + 4);
      if (!need(8 + len)) break;
      paths.set(id, buf.toString('utf8', p + 8, p + 8 + len));
      p += 8 + len;
    } else if (t === 'U') {
      if (!need(32)) break;
      const seq = buf.readBigUInt64LE(p);
      const id = buf.readUInt32LE(p + 8);
      const off = Number(buf.readBigUInt64LE(p + 12));
      const oldSize = Number(buf.readBigUInt64LE(p + 20));
      const n = buf.readUInt32LE(p + 28);
      if (!need(32 + n)) break;
      list(id).push({ kind: 'U', seq, off, oldSize, pre: buf.subarray(p + 32, p + 32 + n) });
      p += 32 + n;
    } else if (t === 'K') {
      if (!need(28)) break;
      const seq = buf.readBigUInt64LE(p);
      const id = buf.readUInt32LE(p + 8);
      list(id).push({ kind: 'K', seq, off: Number(buf.readBigUInt64LE(p + 12)), len: Number(buf.readBigUInt64LE(p + 20)) });
      p += 28;
    } else if (t === 'S') {
      if (!need(12)) break;
      const seq = buf.readBigUInt64LE(p);
      const id = buf.readUInt32LE(p + 8);
      pending.set(
        id,
        list(id).filter((r) => r.seq > seq),
      );
      p += 12;
    } else if (t === 'A') {
      if (!need(8)) break;
      const seq = buf.readBigUInt64LE(p);
      for (const [id, l] of pending)
        pending.set(
          id,
          l.filter((r) => r.seq > seq),
        );
      p += 8;
    } else if (t === 'D') {
      if (!need(4)) break;
      pending.set(buf.readUInt32LE(p), []);
      p += 4;
    } else if (t === 'R') {
      if (!need(8)) break;
      const from = buf.readUInt32LE(p);
      const to = buf.readUInt32LE(p + 4);
      pending.set(to, list(from));
      pending.set(from, []);
      p += 8;
    } else {
      throw new Error(`powerloss: undo log ${undoLog} is corrupt at byte ${p - 1} (record type ${t})`);
    }
  }
  for (const [id, records] of pending) {
    if (records.length === 0) continue;
    const path = paths.get(id);
    if (path === undefined) throw new Error(`powerloss: undo log names file id ${id} without declaring it`);
    if (!existsSync(path)) {
      stats.missing++;
      continue;
    }
    if (!records.some((r) => r.kind === 'U')) continue;
    stats.files++;
    const fd = openSync(path, 'r+');
    try {
      // Newest first, so the oldest pre-image of each byte is what remains. Bytes that a later
      // synced-per-write write (K) made durable are never rolled back.
      const kept: [number, number][] = [];
      let size = -1;
      let keepEnd = 0;
      for (let i = records.length - 1; i >= 0; i--) {
        const r = records[i]!;
        if (r.kind === 'K') {
          kept.push([r.off, r.off + r.len]);
          keepEnd = Math.max(keepEnd, r.off + r.len);
          continue;
        }
        for (const [from, to] of subtract([r.off, r.off + r.pre.length], kept)) {
          writeSync(fd, r.pre, from - r.off, to - from, from);
          stats.bytes += to - from;
        }
        size = r.oldSize;
        stats.undone++;
      }
      if (size >= 0) ftruncateSync(fd, Math.max(size, keepEnd));
    } finally {
      closeSync(fd);
    }
  }
  return stats;
}

/** The parts of `range` not covered by any of `holes`. */
function subtract(range: [number, number], holes: [number, number][]): [number, number][] {
  let parts: [number, number][] = [range];
  for (const [hs, he] of holes) {
    const next: [number, number][] = [];
    for (const [s, e] of parts) {
      if (he <= s || hs >= e) next.push([s, e]);
      else {
        if (s < hs) next.push([s, hs]);
        if (he < e) next.push([he, e]);
      }
    }
    parts = next;
  }
  return parts.filter(([s, e]) => e > s);
}
