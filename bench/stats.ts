/** Small statistics for the benchmarks: percentiles, means, a least-squares slope. */

/** The `p`-th percentile (0..100) of `values`, linearly interpolated; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

export const median = (values: readonly number[]): number => percentile(values, 50);

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Slope of the least-squares line through (x, y). */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const mx = mean(xs);
  const my = mean(ys);
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** Rounds for reports: `digits` after the point, NaN kept as null in JSON by the caller. */
export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export const MB = 1024 * 1024;

export function rssMB(): number {
  return round(process.memoryUsage().rss / MB, 1);
}

/**
 * Milliseconds of CPU this process has used since `since` (from `process.cpuUsage()`), user and
 * system, all its threads together (the model workers and libuv's pool included; child processes
 * such as ffmpeg not). Divided by frames, it says what a frame costs the cores.
 */
export function cpuMsSince(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}
