/**
 * The background of a grey image sequence, per pixel, and what differs from it.
 *
 * Per pixel (the Σ-Δ / approximate-median idea): the background level moves towards each new
 * value by at most `adaptation` grey levels per second, so it follows the median of what the
 * pixel shows over time (a passing car shifts it little; light changing over minutes is
 * followed), and a running mean of how far the pixel strays from it when nothing moves there
 * (leaves, water, sensor noise) raises that pixel's threshold. A pixel is foreground when it
 * differs from its background by more than `threshold + deviations * spread`.
 *
 * A pixel is judged only once it has been watched for `settle` (frames or seconds): at the start
 * of a stream, and where a moving camera brings new ground into view. Camera motion moves the
 * model with the image, by whole pixels; the fraction left over is carried to the next frame so
 * the model never drifts from the picture.
 */
export type Settle = { readonly frames: number } | { readonly seconds: number };

export interface BackgroundOptions {
  /** Least difference from the background, in grey levels, that is motion. */
  readonly threshold: number;
  /** Extra threshold per grey level of a pixel's usual spread (flickering pixels need more). */
  readonly deviations: number;
  /** How fast the background follows a change, in grey levels per second. */
  readonly adaptation: number;
  /** How long a pixel is watched before it is judged. */
  readonly settle: Settle;
}

/** Spread learning rate per frame: the spread follows about the last 30 background frames. */
const SPREAD_RATE = 1 / 30;

export class BackgroundModel {
  private level: Float32Array;
  private spread: Float32Array;
  /** When each pixel started being watched, in the settle duration's unit (frame index or ms). */
  private since: Float64Array;
  private scratchLevel: Float32Array;
  private scratchSpread: Float32Array;
  private scratchSince: Float64Array;
  /** Differences from the background, -255..255, for the median (see exposureChange). */
  private readonly histogram = new Int32Array(511);
  private started = false;
  private frames = 0;
  private lastMs = 0;
  /** Camera motion not yet applied to the model (less than a pixel), carried forward. */
  private carryX = 0;
  private carryY = 0;

  constructor(
    readonly width: number,
    readonly height: number,
    private readonly options: BackgroundOptions,
  ) {
    const n = width * height;
    this.level = new Float32Array(n);
    this.spread = new Float32Array(n);
    this.since = new Float64Array(n);
    this.scratchLevel = new Float32Array(n);
    this.scratchSpread = new Float32Array(n);
    this.scratchSince = new Float64Array(n);
  }

  /**
   * Learns `grey` (the frame at `ptsMs`, after the camera moved by `shiftX, shiftY` grey pixels
   * since the last one) and writes 1 into `foreground` where it moves, 0 elsewhere. Returns how
   * many pixels were judged (settled), so a caller can tell a warm model from a cold one.
   */
  update(grey: Float32Array, ptsMs: number, shiftX: number, shiftY: number, foreground: Uint8Array): number {
    const now = 'frames' in this.options.settle ? this.frames : ptsMs;
    const settleFor = 'frames' in this.options.settle ? this.options.settle.frames : this.options.settle.seconds * 1000;
    const n = this.width * this.height;
    if (!this.started) {
      this.level.set(grey);
      this.spread.fill(0);
      this.since.fill(now);
      this.started = true;
    } else {
      this.carryX += shiftX;
      this.carryY += shiftY;
      const moveX = Math.round(this.carryX);
      const moveY = Math.round(this.carryY);
      if (moveX !== 0 || moveY !== 0) {
        this.move(moveX, moveY, grey, now);
        this.carryX -= moveX;
        this.carryY -= moveY;
      }
    }
    const dtSeconds = this.frames === 0 ? 0 : Math.min(Math.max((ptsMs - this.lastMs) / 1000, 0), 1);
    this.lastMs = ptsMs;
    this.frames++;
    const step = this.options.adaptation * dtSeconds;
    const { threshold, deviations } = this.options;
    const { level, spread, since } = this;
    const exposure = this.exposureChange(grey);
    let judged = 0;
    for (let i = 0; i < n; i++) {
      const value = grey[i]!;
      const background = level[i]!;
      const difference = value - background;
      const change = difference - exposure;
      const distance = change < 0 ? -change : change;
      const moving = distance > threshold + deviations * spread[i]!;
      const settled = now - since[i]! >= settleFor;
      if (settled) judged++;
      foreground[i] = moving && settled ? 1 : 0;
      // Towards the value by at most `step`: a median follower, not a mean.
      level[i] = background + (difference > step ? step : difference < -step ? -step : difference);
      // The spread learns from what is not moving, so a car does not make its road look noisy.
      if (!moving) spread[i] = spread[i]! + SPREAD_RATE * (distance - spread[i]!);
    }
    return judged;
  }

  /**
   * How much brighter the whole picture got since the model learnt it: the median difference
   * from the background. Cameras change exposure when a white car drives in, and every pixel of
   * the road would move otherwise; the background itself follows at its own pace.
   */
  private exposureChange(grey: Float32Array): number {
    const histogram = this.histogram;
    histogram.fill(0);
    const n = grey.length;
    for (let i = 0; i < n; i++) histogram[Math.round(grey[i]! - this.level[i]!) + 255]!++;
    let below = 0;
    for (let bin = 0; bin < histogram.length; bin++) {
      below += histogram[bin]!;
      if (below * 2 >= n) return bin - 255;
    }
    return 0;
  }

  /** Moves the model by whole pixels; pixels with nothing to come from start afresh from `grey`. */
  private move(dx: number, dy: number, grey: Float32Array, now: number): void {
    const { width: w, height: h } = this;
    const level = this.scratchLevel;
    const spread = this.scratchSpread;
    const since = this.scratchSince;
    const fresh = (from: number, to: number) => {
      level.set(grey.subarray(from, to), from);
      spread.fill(0, from, to);
      since.fill(now, from, to);
    };
    for (let y = 0; y < h; y++) {
      const sy = y - dy;
      const row = y * w;
      if (sy < 0 || sy >= h) {
        fresh(row, row + w);
        continue;
      }
      const from = Math.max(0, dx);
      const to = Math.min(w, w + dx);
      if (to > from) {
        const src = sy * w;
        level.set(this.level.subarray(src + from - dx, src + to - dx), row + from);
        spread.set(this.spread.subarray(src + from - dx, src + to - dx), row + from);
        since.set(this.since.subarray(src + from - dx, src + to - dx), row + from);
      }
      // The columns the shift uncovered, on either side.
      if (from > 0) fresh(row, row + Math.min(from, w));
      if (to < w) fresh(row + Math.max(to, 0), row + w);
    }
    [this.level, this.scratchLevel] = [level, this.level];
    [this.spread, this.scratchSpread] = [spread, this.spread];
    [this.since, this.scratchSince] = [since, this.since];
  }
}
