/**
 * How the camera moved, the way the field estimates it (OpenCV's videostab, BoT-SORT's global
 * motion compensation): corners (corner-picker.ts) followed by pyramidal Lucas-Kanade
 * (lucas-kanade.ts), and the similarity (rotation, zoom, slide) most of them agree with, by
 * RANSAC (similarity-fit.ts). The share of followed corners that agree is the confidence; an
 * estimate too few corners support is no estimate, and the camera is taken as still.
 *
 * Corners are followed from a key frame, not from the previous frame: each estimate is then
 * the whole way from the key frame, and its error does not add up frame after frame (0.05 px of
 * noise a frame would be a random walk of pixels over a minute). What does add up is what a new
 * key frame leaves behind: a change still too small to believe (under 0.15 px), once per key. The camera is taken to have
 * moved only when the new estimate differs from the last believed one by more than its own
 * noise: a still camera stays exactly still, and a drone drifting 0.03 px a frame is followed
 * in steps of a tenth of a pixel. A new key frame is taken when the view has moved far from it
 * or too few of its corners are still followed.
 *
 * Cars and people move by themselves: corners on what moved in the frame before the key was
 * taken are not picked, and those that slip through disagree with the ground and are outvoted.
 */
import { IDENTITY_AFFINE, applyAffine, composeAffine, invertAffine, largestCornerShift, type Affine } from '../../lib/geometry/affine.ts';
import { fitSimilarity } from '../../lib/geometry/similarity-fit.ts';
import { CornerPicker } from './corner-picker.ts';
import { histogramMedian } from './histogram-median.ts';
import { ImagePyramid } from './image-pyramid.ts';
import { LucasKanade } from './lucas-kanade.ts';

/** Corners looked for per key frame, at most (one per grid cell). */
const CORNERS = 300;
/** Fewer agreeing corners than this prove nothing, whatever their share. */
const LEAST_INLIERS = 12;
/** Pyramid levels: 4 follows motions up to about 60 pixels a frame on the grey copy. */
const LEVELS = 4;
/** A corner agrees with a fit within this distance, in grey pixels. */
const TOLERANCE = 0.5;
const RANSAC_ITERATIONS = 150;
/** Corners are not picked this close to the border: the 15x15 window must fit. */
const MARGIN = 8;
/** Least change (grey pixels, at the picture's corners) believed, however many corners agree. */
const LEAST_CHANGE = 0.15;
/** A change is believed when it is this many standard errors of the fit. */
const CHANGE_ERRORS = 3;
/** Changes up to this (grey pixels at the picture's corners) are small: see `follow`. */
const SMALL_CHANGE = 1.5;
/** A larger change must line the whole picture up this much better than the last belief... */
const MISFIT_GAIN = 0.8;
/** ...and this much when fewer corners than the least confidence agree with it. */
const CLEAR_MISFIT_GAIN = 0.5;
/** Added to both misfits before their ratio: a perfect fit (0) compares as a very good one, not as none. */
const MISFIT_FLOOR = 1 / 4;
/** Fewer textured samples than this say nothing: the misfit then looks at every sample. */
const LEAST_TEXTURED_SAMPLES = 64;
/** Least local contrast (grey levels across two pixels, both ways summed) of a pixel the misfit looks at. */
const TEXTURE = 12;
/** The misfit's histogram: quarter levels, -64..64 (further is "no fit" anyway). */
const BINS_PER_LEVEL = 4;
const HALF_BINS = 64 * BINS_PER_LEVEL;
/** The misfit of an alignment that leaves nothing to compare. */
const MAX_MISFIT = 64;
/** A new key frame once the view has moved this share of its width from the key, or half the key's corners are lost. */
const KEY_SPAN = 0.1;

export interface CameraMotionEstimate {
  /** Previous frame → this one, in grey pixels; the identity when no motion is believed. */
  readonly affine: Affine;
  /** Share of the followed corners that agree with the fit, 0..1. */
  readonly confidence: number;
  /** Corners followed from the key frame, and how many of them agree. */
  readonly tracked: number;
  readonly inliers: number;
}

export class CameraMotionEstimator {
  private key: ImagePyramid;
  private current: ImagePyramid;
  private hasKey = false;
  private readonly picker: CornerPicker;
  private readonly keyCorners: { x: Float32Array; y: Float32Array; count: number };
  private readonly tracker = new LucasKanade(CORNERS * 2);
  /** Sampled differences and their histogram, for the misfit. */
  private readonly differences: Float32Array;
  private readonly histogram = new Int32Array(2 * HALF_BINS);
  /** Key frame → the last frame, as last believed. */
  private keyToLast: Affine = IDENTITY_AFFINE;

  constructor(
    readonly width: number,
    readonly height: number,
    /** Least share of agreeing corners for an estimate to be believed. */
    private readonly minConfidence: number,
  ) {
    this.key = new ImagePyramid(width, height, LEVELS);
    this.current = new ImagePyramid(width, height, LEVELS);
    this.picker = new CornerPicker(width, height, CORNERS, MARGIN);
    this.differences = new Float32Array(Math.ceil(width / 2) * Math.ceil(height / 2));
    this.keyCorners = { x: new Float32Array(CORNERS * 2), y: new Float32Array(CORNERS * 2), count: 0 };
  }

  /**
   * The camera's motion since the last frame, or undefined for the first frame. `moving(x, y)`,
   * where given, says whether something moved at that pixel of the last frame: no corner is
   * taken there.
   */
  estimate(grey: Float32Array, moving?: (x: number, y: number) => boolean): CameraMotionEstimate | undefined {
    this.current.build(grey);
    if (!this.hasKey) {
      this.takeKey(moving);
      this.hasKey = true;
      return undefined;
    }
    const { estimate, keyLost } = this.follow(moving);
    if (keyLost || largestCornerShift(this.keyToLast, this.width, this.height) > KEY_SPAN * this.width) this.takeKey(moving);
    return estimate;
  }

  /** This frame against the key frame: the believed motion since the last frame, and whether the key no longer serves. */
  private follow(moving?: (x: number, y: number) => boolean): { estimate: CameraMotionEstimate; keyLost: boolean } {
    const corners = this.keyCorners;
    const still = (confidence: number, tracked: number, inliers: number) => ({
      estimate: { affine: IDENTITY_AFFINE, confidence, tracked, inliers },
      keyLost: inliers < Math.max(LEAST_INLIERS, corners.count / 2),
    });
    if (corners.count < LEAST_INLIERS) return still(0, 0, 0);
    const guess = this.keyToLast;
    const followed = this.tracker.track(this.key, this.current, corners.x, corners.y, corners.count, (x, y) => applyAffine(guess, x, y));
    let tracked = 0;
    for (let i = 0; i < corners.count; i++) tracked += followed.found[i]!;
    const fit = fitSimilarity(corners.x, corners.y, followed.x, followed.y, corners.count, { tolerance: TOLERANCE, iterations: RANSAC_ITERATIONS }, followed.found);
    if (!fit || tracked === 0) return still(0, tracked, 0);
    const confidence = fit.inlierCount / tracked;
    if (fit.inlierCount < LEAST_INLIERS) return still(confidence, tracked, fit.inlierCount);
    // A camera does not zoom by a fifth between two frames: such a fit is corners gone astray.
    const zoom = Math.hypot(fit.affine[0], fit.affine[3]);
    if (zoom < 0.8 || zoom > 1.25) return still(0, tracked, fit.inlierCount);
    const change = composeAffine(fit.affine, invertAffine(this.keyToLast));
    const noise = CHANGE_ERRORS * (fit.rms / Math.sqrt(fit.inlierCount));
    const size = largestCornerShift(change, this.width, this.height);
    let believed = size > Math.max(LEAST_CHANGE, noise) && confidence >= this.minConfidence;
    if (size > SMALL_CHANGE || believed) {
      // A small change must line the picture's texture up better and the whole picture no
      // worse. A larger one must line the whole picture up clearly better (very clearly when
      // fewer corners than `minConfidence` back it: a jump of the view loses many of them): on
      // featureless asphalt the only texture may be a car, whose motion must not pass for the
      // camera's.
      const ratio = (a: number, b: number) => (a + MISFIT_FLOOR) / (b + MISFIT_FLOOR);
      const textured = ratio(this.misfit(fit.affine, true, moving), this.misfit(this.keyToLast, true, moving));
      const whole = ratio(this.misfit(fit.affine, false, moving), this.misfit(this.keyToLast, false, moving));
      const gain = confidence >= this.minConfidence ? MISFIT_GAIN : CLEAR_MISFIT_GAIN;
      believed = size > Math.max(LEAST_CHANGE, noise) && textured < 1 && (size <= SMALL_CHANGE ? whole <= 1 : whole < gain);
    }
    if (believed) this.keyToLast = fit.affine;
    return {
      estimate: { affine: believed ? change : IDENTITY_AFFINE, confidence, tracked, inliers: fit.inlierCount },
      keyLost: fit.inlierCount < corners.count / 2,
    };
  }

  /**
   * How badly this frame and the key frame moved by `keyToNow` disagree: the median absolute
   * deviation of their differences around the median difference (a change of exposure is not a
   * misfit), over every other pixel of every other row (`textured`: those with texture alone),
   * leaving out what moved by itself. The ground owns most pixels, so only
   * the ground's motion lowers it: on featureless asphalt, where the only corners are on a car
   * driving through, the car's motion does not line up the picture and is not believed.
   */
  private misfit(keyToNow: Affine, textured: boolean, moving?: (x: number, y: number) => boolean): number {
    const { width: w, height: h, histogram } = this;
    const key = this.key.levels[0]!.data;
    const now = this.current.levels[0]!.data;
    const [a, b, c, d, e, f] = invertAffine(keyToNow);
    const differences = this.differences;
    let count = 0;
    for (let y = 2; y < h - 1; y += 2) {
      for (let x = 2; x < w - 1; x += 2) {
        const at = y * w + x;
        // Flat pixels agree with any alignment: only texture tells a good fit from a bad one.
        if (textured && Math.abs(now[at + 1]! - now[at - 1]!) + Math.abs(now[at + w]! - now[at - w]!) < TEXTURE) continue;
        // Nor what moves by itself: a car's texture lines up with the car's motion, not the camera's.
        if (moving?.(x, y)) continue;
        const sx = a * x + b * y + c;
        const sy = d * x + e * y + f;
        if (sx < 0 || sy < 0 || sx >= w - 1 || sy >= h - 1) continue;
        const ix = Math.floor(sx);
        const iy = Math.floor(sy);
        const fx = sx - ix;
        const fy = sy - iy;
        const i = iy * w + ix;
        const top = key[i]! + fx * (key[i + 1]! - key[i]!);
        const bottom = key[i + w]! + fx * (key[i + w + 1]! - key[i + w]!);
        differences[count++] = now[at]! - (top + fy * (bottom - top));
      }
    }
    if (textured && count < LEAST_TEXTURED_SAMPLES) return this.misfit(keyToNow, false, moving);
    if (count === 0) return MAX_MISFIT;
    const median = (absoluteAround?: number): number => {
      histogram.fill(0);
      for (let k = 0; k < count; k++) {
        const v = absoluteAround === undefined ? differences[k]! : Math.abs(differences[k]! - absoluteAround);
        const bin = Math.round(v * BINS_PER_LEVEL) + (absoluteAround === undefined ? HALF_BINS : 0);
        histogram[bin < 0 ? 0 : bin >= histogram.length ? histogram.length - 1 : bin]!++;
      }
      return (histogramMedian(histogram, count) - (absoluteAround === undefined ? HALF_BINS : 0)) / BINS_PER_LEVEL;
    };
    return median(median());
  }

  /** This frame becomes the key: its pyramid kept, its corners picked. */
  private takeKey(moving?: (x: number, y: number) => boolean): void {
    [this.key, this.current] = [this.current, this.key];
    const picked = this.picker.pick(this.key.levels[0]!, moving);
    this.keyCorners.x.set(picked.x.subarray(0, picked.count));
    this.keyCorners.y.set(picked.y.subarray(0, picked.count));
    this.keyCorners.count = picked.count;
    this.keyToLast = IDENTITY_AFFINE;
  }
}
