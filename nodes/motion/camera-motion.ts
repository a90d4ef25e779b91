/**
 * Which way the camera moved between two grey frames: phase correlation proposes a few shifts
 * (phase-correlation.ts), and the one that lines the previous frame up with this one best wins,
 * if it does so clearly better than no shift at all. Two cars driving through a fixed view
 * correlate with themselves too; only the true camera motion lines up the ground.
 */
import { PhaseCorrelation, type ShiftEstimate } from './phase-correlation.ts';

/** How much a shift must lower the misfit, against standing still, to be believed. */
const MISFIT_GAIN = 0.8;
/** Shifts proposed per frame. */
const CANDIDATES = 3;
/** The misfit's histogram: quarter grey levels, -64..64 (further is "no fit" anyway). */
const BINS_PER_LEVEL = 4;
const HISTOGRAM_BINS = 128 * BINS_PER_LEVEL;

export class CameraMotionEstimator {
  private readonly correlation: PhaseCorrelation;
  private previous: Float32Array;
  private hasPrevious = false;
  private moving: Uint8Array | undefined;
  private readonly histogram = new Int32Array(HISTOGRAM_BINS);

  constructor(
    readonly width: number,
    readonly height: number,
    private readonly minConfidence: number,
  ) {
    this.correlation = new PhaseCorrelation(width, height);
    this.previous = new Float32Array(width * height);
  }

  /**
   * The camera's shift since the last frame, in grey pixels (content moved by `dx, dy`), or
   * undefined for the first frame. No shift with confidence 0 when no proposal convinces.
   * `moving`, where given, marks the pixels that moved in the previous frame: they are left out
   * of the fit, so a car filling a featureless view cannot pass its own motion off as the camera's.
   */
  estimate(grey: Float32Array, moving?: Uint8Array): ShiftEstimate | undefined {
    this.moving = moving;
    const proposals = this.correlation.estimate(grey, CANDIDATES);
    let chosen: ShiftEstimate = { dx: 0, dy: 0, confidence: 0 };
    if (proposals && this.hasPrevious) {
      const still = this.misfit(grey, 0, 0);
      let best = Infinity;
      for (const p of proposals) {
        if (p.confidence < this.minConfidence) continue;
        // Under half a pixel moves nothing, and needs no proof.
        const small = Math.abs(p.dx) < 0.5 && Math.abs(p.dy) < 0.5;
        const misfit = small ? still : this.misfit(grey, p.dx, p.dy);
        if ((small || misfit < MISFIT_GAIN * still) && misfit < best) {
          best = misfit;
          chosen = p;
        }
      }
    }
    this.previous.set(grey);
    const first = !this.hasPrevious;
    this.hasPrevious = true;
    return first ? undefined : chosen;
  }

  /**
   * How badly `grey` and the previous frame moved by `dx, dy` (rounded) disagree: the median
   * absolute deviation of their differences, over every fourth pixel of every fourth row that
   * both frames see. The median, not the mean: moving things own a minority of the pixels, so
   * they cannot make a shift fit, and on a featureless ground every shift fits alike and
   * standing still wins. Around the median difference, not zero: when the camera changes its
   * exposure, a shift along a brightness gradient must not pass for explaining it.
   */
  private misfit(grey: Float32Array, dx: number, dy: number): number {
    const offset = this.medianDifference(grey, dx, dy, 0, false);
    return this.medianDifference(grey, dx, dy, offset, true);
  }

  /** Median of the sampled differences minus `offset`, or of their absolute values. */
  private medianDifference(grey: Float32Array, dx: number, dy: number, offset: number, absolute: boolean): number {
    const { width: w, height: h, previous, moving, histogram } = this;
    const mx = Math.round(dx);
    const my = Math.round(dy);
    const zero = absolute ? 0 : HISTOGRAM_BINS >> 1;
    histogram.fill(0);
    let count = 0;
    for (let y = Math.max(0, my); y < Math.min(h, h + my); y += 4) {
      const row = y * w;
      const source = (y - my) * w - mx;
      for (let x = Math.max(0, mx); x < Math.min(w, w + mx); x += 4) {
        if (moving && (moving[source + x] !== 0 || moving[row + x] !== 0)) continue;
        let d = grey[row + x]! - previous[source + x]! - offset;
        if (absolute && d < 0) d = -d;
        const bin = zero + Math.round(d * BINS_PER_LEVEL);
        histogram[bin < 0 ? 0 : bin >= HISTOGRAM_BINS ? HISTOGRAM_BINS - 1 : bin]!++;
        count++;
      }
    }
    if (count === 0) return Infinity;
    let below = 0;
    for (let bin = 0; bin < HISTOGRAM_BINS; bin++) {
      below += histogram[bin]!;
      if (below * 2 >= count) return (bin - zero) / BINS_PER_LEVEL;
    }
    return (HISTOGRAM_BINS - zero) / BINS_PER_LEVEL;
  }
}
