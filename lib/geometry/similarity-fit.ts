/**
 * The similarity (rotation, uniform scale, translation: `x' = a*x - b*y + c`, `y' = b*x + a*y +
 * f`) that takes most point pairs onto each other, by RANSAC: two pairs at random fix a
 * candidate, the candidate that the most pairs agree with (within `tolerance`) wins, and a
 * least-squares fit over those pairs refines it. What OpenCV's `estimateAffinePartial2D` does;
 * the random draws are seeded, so the same points always give the same answer.
 */
import type { Affine } from './affine.ts';

export interface SimilarityFit {
  readonly affine: Affine;
  /** Pairs the fit explains (1) or not (0), in the input's order. */
  readonly inliers: Uint8Array;
  readonly inlierCount: number;
  /** Root mean square distance of the inliers from where the fit puts them. */
  readonly rms: number;
}

export interface SimilarityFitOptions {
  /** Largest distance, in pixels, at which a pair agrees with a candidate. */
  readonly tolerance: number;
  readonly iterations: number;
  readonly seed?: number;
}

/** A small seeded generator (mulberry32): reproducible draws without a dependency. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Fits `to[i] ≈ S(from[i])` for the pairs where `use[i]` is 1 (all when absent). Undefined with
 * fewer than two usable pairs.
 */
export function fitSimilarity(
  fromX: Float32Array,
  fromY: Float32Array,
  toX: Float32Array,
  toY: Float32Array,
  count: number,
  options: SimilarityFitOptions,
  use?: Uint8Array,
): SimilarityFit | undefined {
  const usable: number[] = [];
  for (let i = 0; i < count; i++) if (!use || use[i]) usable.push(i);
  if (usable.length < 2) return undefined;
  const random = seeded(options.seed ?? 1);
  const tolerance2 = options.tolerance * options.tolerance;
  const agreeing = (a: number, b: number, c: number, f: number): number => {
    let agree = 0;
    for (const i of usable) {
      const ex = a * fromX[i]! - b * fromY[i]! + c - toX[i]!;
      const ey = b * fromX[i]! + a * fromY[i]! + f - toY[i]!;
      if (ex * ex + ey * ey <= tolerance2) agree++;
    }
    return agree;
  };
  // Standing still is always a candidate: a still camera must not need luck to be found still.
  let best: [number, number, number, number] = [1, 0, 0, 0];
  let bestAgree = agreeing(1, 0, 0, 0);
  for (let iteration = 0; iteration < options.iterations; iteration++) {
    const i = usable[Math.floor(random() * usable.length)]!;
    const j = usable[Math.floor(random() * usable.length)]!;
    const px = fromX[j]! - fromX[i]!;
    const py = fromY[j]! - fromY[i]!;
    const norm = px * px + py * py;
    if (norm < 1) continue;
    const qx = toX[j]! - toX[i]!;
    const qy = toY[j]! - toY[i]!;
    // (q) / (p) as complex numbers: the rotation and scale.
    const a = (qx * px + qy * py) / norm;
    const b = (qy * px - qx * py) / norm;
    const c = toX[i]! - (a * fromX[i]! - b * fromY[i]!);
    const f = toY[i]! - (b * fromX[i]! + a * fromY[i]!);
    const agree = agreeing(a, b, c, f);
    if (agree > bestAgree) {
      bestAgree = agree;
      best = [a, b, c, f];
    }
  }
  const inliers = new Uint8Array(count);
  const mark = ([a, b, c, f]: readonly number[]) => {
    let marked = 0;
    inliers.fill(0);
    for (const i of usable) {
      const ex = a! * fromX[i]! - b! * fromY[i]! + c! - toX[i]!;
      const ey = b! * fromX[i]! + a! * fromY[i]! + f! - toY[i]!;
      if (ex * ex + ey * ey <= tolerance2) {
        inliers[i] = 1;
        marked++;
      }
    }
    return marked;
  };
  let inlierCount = mark(best);
  // Least squares over the agreeing pairs, then their agreement once more with the refined fit.
  if (inlierCount >= 2) {
    const refined = leastSquaresSimilarity(fromX, fromY, toX, toY, inliers);
    if (refined) {
      const refinedCount = mark(refined);
      if (refinedCount >= inlierCount) {
        best = refined;
        inlierCount = refinedCount;
      } else {
        inlierCount = mark(best);
      }
    }
  }
  const [a, b, c, f] = best;
  let squares = 0;
  for (let i = 0; i < count; i++) {
    if (!inliers[i]) continue;
    const ex = a * fromX[i]! - b * fromY[i]! + c - toX[i]!;
    const ey = b * fromX[i]! + a * fromY[i]! + f - toY[i]!;
    squares += ex * ex + ey * ey;
  }
  return { affine: [a, -b, c, b, a, f], inliers, inlierCount, rms: inlierCount > 0 ? Math.sqrt(squares / inlierCount) : Infinity };
}

/** The least-squares similarity over the pairs marked in `use` (closed form, about their centroids). */
function leastSquaresSimilarity(
  fromX: Float32Array,
  fromY: Float32Array,
  toX: Float32Array,
  toY: Float32Array,
  use: Uint8Array,
): [number, number, number, number] | undefined {
  let n = 0;
  let mpx = 0;
  let mpy = 0;
  let mqx = 0;
  let mqy = 0;
  for (let i = 0; i < use.length; i++) {
    if (!use[i]) continue;
    n++;
    mpx += fromX[i]!;
    mpy += fromY[i]!;
    mqx += toX[i]!;
    mqy += toY[i]!;
  }
  if (n < 2) return undefined;
  mpx /= n;
  mpy /= n;
  mqx /= n;
  mqy /= n;
  let dot = 0;
  let cross = 0;
  let norm = 0;
  for (let i = 0; i < use.length; i++) {
    if (!use[i]) continue;
    const px = fromX[i]! - mpx;
    const py = fromY[i]! - mpy;
    const qx = toX[i]! - mqx;
    const qy = toY[i]! - mqy;
    dot += px * qx + py * qy;
    cross += px * qy - py * qx;
    norm += px * px + py * py;
  }
  if (norm <= 0) return undefined;
  const a = dot / norm;
  const b = cross / norm;
  return [a, b, mqx - (a * mpx - b * mpy), mqy - (b * mpx + a * mpy)];
}
