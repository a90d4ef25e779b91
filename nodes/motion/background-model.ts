/**
 * The background of an image sequence, per pixel, and what differs from it.
 *
 * Per pixel (the Σ-Δ / approximate-median idea): the background level moves towards each new
 * value by at most `adaptation` levels per second, so it follows the median of what the pixel
 * shows over time (a passing car shifts it little; light changing over minutes is followed).
 * Its spread follows the two-thirds quantile of how far the pixel strays from that level (up
 * two steps when it strays further, down one when not), so each pixel learns its own noise:
 * sensor noise, compression blocks that change every frame, leaves, the shimmer of an edge that
 * moves by a pixel, even one that flickers every other frame. A quantile, not a mean, so traffic
 * that covers a pixel up to a third of the time does not make its road look noisy. A
 * pixel is foreground when it differs from its background by more than `threshold + deviations *
 * spread` and, with `jitterRadius`, from the background of every pixel within that radius too:
 * an edge shifted by a pixel (a drone's sway, parallax, a codec's ringing) matches its
 * neighbour's background and stays background, while a car over asphalt differs from all of it.
 *
 * The model lives in its own pixel grid. A caller whose camera moves reads each frame into that
 * grid (warp.ts), marking pixels it cannot see as NaN: they are neither judged nor learnt. When
 * the grid has drifted far from the camera's, {@link shift} moves it by whole pixels (no
 * resampling) or {@link warp} resamples it once.
 *
 * A pixel is judged only once it has been watched for `settle` (frames or seconds): at the start
 * of a stream, and where a moving camera brings new ground into view.
 */
import type { Affine } from '../../lib/geometry/affine.ts';
import { histogramMedian } from './histogram-median.ts';
import { shiftPlane, warpBilinear, warpNearest } from './warp.ts';

export type Settle = { readonly frames: number } | { readonly seconds: number };

export interface BackgroundOptions {
  /** Least difference from the background, in levels, that is motion. */
  readonly threshold: number;
  /** Extra threshold per level of a pixel's usual spread (flickering pixels need more). */
  readonly deviations: number;
  /** How fast the background follows a change, in levels per second. */
  readonly adaptation: number;
  /** How long a pixel is watched before it is judged. */
  readonly settle: Settle;
  /** A pixel moves only if it differs from the background of every pixel this close (0: only its own). */
  readonly jitterRadius?: number;
  /**
   * Exposure changes scale brightness (a bright lane marking darkens more than the asphalt around
   * it), so brightness planes follow them by a gain and an offset; a colour-difference plane,
   * centred on 0, by an offset alone.
   */
  readonly exposureGain?: boolean;
}

/** How far the spread moves down towards each new distance, in levels per frame, once settled and while settling; up is twice that. */
const SPREAD_STEP = 0.25;
/** Share of `adaptation` at which the background follows a pixel judged moving. */
const MOVING_ADAPTATION = 1 / 8;
const SETTLING_SPREAD_STEP = 1;

/** The exposure gain's range and step, and the least background level a ratio is taken of. */
const GAIN_LOW = 0.5;
const GAIN_HIGH = 2;
const GAIN_STEP = 0.0025;
const LEAST_LEVEL_FOR_GAIN = 24;

export class BackgroundModel {
  private level: Float32Array;
  private spread: Float32Array;
  /** When each pixel started being watched, in the settle duration's unit (frame index or ms); NaN: never yet. */
  private since: Float64Array;
  private readonly scratch: Float32Array;
  /** Differences from the background, -255..255, for the median (see exposureChange). */
  private readonly histogram = new Int32Array(511);
  /** Ratios to the background, GAIN_LOW.. in GAIN_STEP, for the median (see exposureGain). */
  private readonly gainHistogram = new Int32Array(Math.round((GAIN_HIGH - GAIN_LOW) / GAIN_STEP) + 1);
  private frames = 0;
  private lastMs = 0;

  constructor(
    readonly width: number,
    readonly height: number,
    private readonly options: BackgroundOptions,
  ) {
    const n = width * height;
    // Never seen: NaN, so a resampling never blends a level that was never learnt into one that was.
    this.level = new Float32Array(n).fill(NaN);
    this.spread = new Float32Array(n);
    this.since = new Float64Array(n).fill(NaN);
    this.scratch = new Float32Array(n);
  }

  /**
   * Learns `image` (the frame at `ptsMs`, in this model's grid; NaN where unseen) and writes 1
   * into `foreground` where it moves, 0 elsewhere. Returns how many pixels were judged
   * (settled and seen), so a caller can tell a warm model from a cold one.
   */
  update(image: Float32Array, ptsMs: number, foreground: Uint8Array): number {
    const byFrames = 'frames' in this.options.settle;
    const now = byFrames ? this.frames : ptsMs;
    const settleFor = 'frames' in this.options.settle ? this.options.settle.frames : this.options.settle.seconds * 1000;
    const { width: w, height: h } = this;
    const n = w * h;
    const dtSeconds = this.frames === 0 ? 0 : Math.min(Math.max((ptsMs - this.lastMs) / 1000, 0), 1);
    this.lastMs = ptsMs;
    this.frames++;
    const step = this.options.adaptation * dtSeconds;
    const { threshold, deviations } = this.options;
    const radius = this.options.jitterRadius ?? 0;
    const { level, spread, since } = this;
    const gain = this.options.exposureGain ? this.exposureGain(image) : 1;
    const exposure = this.exposureChange(image, gain);
    let judged = 0;
    // Judged first, learnt after: a pixel's neighbours are compared with their backgrounds as they were.
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        const value = image[i]!;
        const started = since[i]!;
        foreground[i] = 0;
        if (value !== value || started !== started || now - started < settleFor) continue;
        judged++;
        const change = value - exposure;
        const distance = Math.abs(change - gain * level[i]!);
        if (distance <= threshold + deviations * spread[i]!) continue;
        let moving = 1;
        for (let ny = Math.max(0, y - radius); moving && ny <= Math.min(h - 1, y + radius); ny++) {
          for (let nx = Math.max(0, x - radius); nx <= Math.min(w - 1, x + radius); nx++) {
            const j = ny * w + nx;
            if (Math.abs(change - gain * level[j]!) <= threshold + deviations * spread[j]!) {
              moving = 0;
              break;
            }
          }
        }
        foreground[i] = moving;
      }
    }
    for (let i = 0; i < n; i++) {
      const value = image[i]!;
      if (value !== value) continue;
      const started = since[i]!;
      if (started !== started) {
        // First sight of this pixel: it starts as what it shows.
        level[i] = value;
        spread[i] = 0;
        since[i] = now;
        continue;
      }
      const difference = value - level[i]!;
      const distance = Math.abs(value - gain * level[i]! - exposure);
      // Towards the value by at most `step`: a median follower, not a mean. Slower where something
      // moves: a slow car does not leave its ghost in the background when it drives on.
      const pixelStep = foreground[i] ? step * MOVING_ADAPTATION : step;
      level[i] = level[i]! + (difference > pixelStep ? pixelStep : difference < -pixelStep ? -pixelStep : difference);
      const spreadStep = now - started < settleFor ? SETTLING_SPREAD_STEP : SPREAD_STEP;
      const s = spread[i]!;
      spread[i] = distance > s ? s + 2 * spreadStep : s > spreadStep ? s - spreadStep : 0;
    }
    return judged;
  }

  /**
   * Moves the model by whole pixels, content at `(x, y)` to `(x + dx, y + dy)`: no resampling,
   * so nothing blurs. Pixels with nothing to come from start afresh when next seen.
   */
  shift(dx: number, dy: number): void {
    this.movePlanes((plane, empty, out) => shiftPlane(plane, this.width, this.height, dx, dy, empty, out));
  }

  /**
   * Resamples the model through `affine` (new grid → old grid: the new pixel `p` takes what the
   * old grid had at `affine(p)`); pixels with nothing to come from start afresh when next seen.
   */
  warp(affine: Affine): void {
    const { width: w, height: h, scratch } = this;
    warpBilinear(this.level, w, h, affine, scratch);
    this.level.set(scratch);
    warpBilinear(this.spread, w, h, affine, scratch);
    this.spread.set(scratch);
    const since = this.since.slice();
    warpNearest(since, w, h, affine, NaN, this.since);
    // A level blended with one never learnt is none: that pixel starts afresh.
    for (let i = 0; i < w * h; i++) if (this.level[i] !== this.level[i]) this.since[i] = NaN;
  }

  /** Moves level, spread and watch times alike (`move` writes a plane's moved copy into `out`). */
  private movePlanes(move: <T extends Float32Array | Float64Array>(plane: T, empty: number, out: T) => void): void {
    const level = new Float32Array(this.level.length);
    const spread = new Float32Array(this.spread.length);
    const since = new Float64Array(this.since.length);
    move(this.level, NaN, level);
    move(this.spread, 0, spread);
    move(this.since, NaN, since);
    this.level = level;
    this.spread = spread;
    this.since = since;
  }

  /**
   * By how much the camera's exposure scaled the picture since the model learnt it: the median
   * ratio of each pixel to its background, over pixels bright enough for a ratio to mean
   * something, in steps of a quarter percent.
   */
  private exposureGain(image: Float32Array): number {
    const { gainHistogram: histogram, level, since } = this;
    histogram.fill(0);
    let counted = 0;
    for (let i = 0; i < image.length; i++) {
      const value = image[i]!;
      const background = level[i]!;
      if (value !== value || since[i] !== since[i] || background < LEAST_LEVEL_FOR_GAIN) continue;
      const bin = Math.round((value / background - GAIN_LOW) / GAIN_STEP);
      histogram[bin < 0 ? 0 : bin >= histogram.length ? histogram.length - 1 : bin]!++;
      counted++;
    }
    const bin = histogramMedian(histogram, counted);
    return bin < 0 ? 1 : GAIN_LOW + bin * GAIN_STEP;
  }

  /**
   * How much brighter the whole picture got since the model learnt it: the median difference
   * from the background. Cameras change exposure when a white car drives in, and every pixel of
   * the road would move otherwise; the background itself follows at its own pace.
   */
  private exposureChange(image: Float32Array, gain: number): number {
    const { histogram, level, since } = this;
    histogram.fill(0);
    let counted = 0;
    for (let i = 0; i < image.length; i++) {
      const value = image[i]!;
      if (value !== value || since[i] !== since[i]) continue;
      const bin = Math.round(value - gain * level[i]!) + 255;
      histogram[bin < 0 ? 0 : bin > 510 ? 510 : bin]!++;
      counted++;
    }
    const bin = histogramMedian(histogram, counted);
    return bin < 0 ? 0 : bin - 255;
  }
}
