import cliProgress from 'cli-progress';
import type { Output } from './output.js';

/** Reports how far a long run has got. */
export interface Progress {
  update(done: number): void;
  /** Stops the display, leaving the final count on screen. */
  stop(done: number): void;
}

export interface ProgressOptions {
  /** What is counted, plural ("entries"). */
  unit: string;
  /** Minimum time between plain-text lines when the stream is not a terminal. */
  intervalMs: number;
  /**
   * For a step before the real work (validating the log): the bar is cleared when it stops, and
   * on a pipe a final line is printed only when an interval line was, so a quick step is silent.
   */
  transient?: boolean;
}

function seconds(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

/**
 * A redrawn bar with rate and ETA on a terminal; on anything else (a pipe, a CI log) one plain
 * line per interval, because carriage-return redraws turn into garbage in a file.
 */
export function createProgress(out: Output, label: string, total: number, options: ProgressOptions): Progress {
  const started = performance.now();
  const rate = (done: number): number => {
    const elapsed = (performance.now() - started) / 1000;
    return elapsed > 0 ? Math.round(done / elapsed) : 0;
  };
  if (out.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: out.stream,
        format: `${label} ${out.c.cyan('{bar}')} {percentage}% | {value}/{total} ${options.unit} | {rate} ${options.unit}/s | ETA {eta_formatted}`,
        barCompleteChar: '█',
        barIncompleteChar: '░',
        hideCursor: true,
        etaBuffer: 50,
        fps: 10,
        clearOnComplete: options.transient === true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { rate: 0 });
    return {
      update: (done) => bar.update(done, { rate: rate(done) }),
      stop: (done) => {
        bar.update(done, { rate: rate(done) });
        bar.stop();
      },
    };
  }
  let lastLine = started;
  let printed = false;
  const line = (done: number, final: boolean): void => {
    const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
    const r = rate(done);
    const tail = final
      ? ` in ${seconds(performance.now() - started)}`
      : r > 0 && done < total
        ? `, ETA ${seconds(((total - done) / r) * 1000)}`
        : '';
    out.line(`${label}: ${done}/${total} ${options.unit} (${pct}%), ${r} ${options.unit}/s${tail}`);
  };
  return {
    update(done) {
      const now = performance.now();
      if (now - lastLine < options.intervalMs) return;
      lastLine = now;
      printed = true;
      line(done, false);
    },
    stop(done) {
      if (options.transient !== true || printed) line(done, true);
    },
  };
}
