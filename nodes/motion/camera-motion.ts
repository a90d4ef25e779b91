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

export class CameraMotionEstimator {
  private readonly correlation: PhaseCorrelation;
  private previous: Float32Array;
  private hasPrevious = false;

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
   */
  estimate(grey: Float32Array): ShiftEstimate | undefined {
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
   * Mean absolute difference between `grey` and the previous frame moved by `dx, dy` (rounded),
   * over every fourth pixel of every fourth row that both frames see.
   */
  private misfit(grey: Float32Array, dx: number, dy: number): number {
    const { width: w, height: h, previous } = this;
    const mx = Math.round(dx);
    const my = Math.round(dy);
    let sum = 0;
    let count = 0;
    for (let y = Math.max(0, my); y < Math.min(h, h + my); y += 4) {
      const row = y * w;
      const source = (y - my) * w - mx;
      for (let x = Math.max(0, mx); x < Math.min(w, w + mx); x += 4) {
        const d = grey[row + x]! - previous[source + x]!;
        sum += d < 0 ? -d : d;
        count++;
      }
    }
    return count ? sum / count : Infinity;
  }
}
