/** Median of a non-empty list (mean of the middle two for an even count). */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A figure as the JSON records it: the median and every round's value. */
export function figure(samples, unit) {
  return { median: median(samples), unit, samples };
}

export function gc() {
  globalThis.gc?.();
}
