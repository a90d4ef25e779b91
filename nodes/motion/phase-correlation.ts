/**
 * Global camera motion between consecutive frames by phase correlation: the normalized cross
 * power spectrum of two images that differ by a shift is a pure phase ramp, whose inverse
 * transform is a peak at that shift. Robust to lighting changes and to the few pixels that
 * moving objects own, cheap (two FFTs a frame: the previous frame's spectrum is kept), and
 * exact to a fraction of a pixel with a parabola through the peak.
 *
 * It sees translation only. Hovering drones and panning cameras move mostly by translation
 * from one frame to the next; rotation and zoom of a fraction of a degree or percent per frame
 * cost a fraction of a pixel here too.
 *
 * Works on the largest power-of-two window (at most `maxSize` a side) centred in the grey
 * image, tapered by a Hann window so the image borders do not correlate with themselves.
 */
import { Fft2d } from './fft.ts';

export interface ShiftEstimate {
  /** How far the content moved from the previous image to this one, in image pixels. */
  readonly dx: number;
  readonly dy: number;
  /**
   * Height of the correlation peak, 0..1: 1 for two images that are exact shifts of each other,
   * near 0 for unrelated images (a cut, a featureless view, a frame full of motion).
   */
  readonly confidence: number;
}

const largestPowerOfTwo = (n: number, max: number) => 2 ** Math.floor(Math.log2(Math.min(n, max)));

export class PhaseCorrelation {
  readonly windowWidth: number;
  readonly windowHeight: number;
  private readonly left: number;
  private readonly top: number;
  private readonly fft: Fft2d;
  private readonly taper: Float64Array;
  private re: Float64Array;
  private im: Float64Array;
  private previousRe: Float64Array;
  private previousIm: Float64Array;
  private readonly crossRe: Float64Array;
  private readonly crossIm: Float64Array;
  private hasPrevious = false;

  constructor(
    readonly width: number,
    readonly height: number,
    maxSize = 128,
  ) {
    this.windowWidth = largestPowerOfTwo(width, maxSize);
    this.windowHeight = largestPowerOfTwo(height, maxSize);
    if (this.windowWidth < 16 || this.windowHeight < 16) throw new RangeError(`phase correlation needs at least 16x16 pixels, got ${width}x${height}`);
    this.left = Math.floor((width - this.windowWidth) / 2);
    this.top = Math.floor((height - this.windowHeight) / 2);
    this.fft = new Fft2d(this.windowWidth, this.windowHeight);
    const n = this.windowWidth * this.windowHeight;
    this.taper = new Float64Array(n);
    const hann = (i: number, size: number) => 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / size);
    for (let y = 0; y < this.windowHeight; y++) {
      for (let x = 0; x < this.windowWidth; x++) this.taper[y * this.windowWidth + x] = hann(x, this.windowWidth) * hann(y, this.windowHeight);
    }
    this.re = new Float64Array(n);
    this.im = new Float64Array(n);
    this.previousRe = new Float64Array(n);
    this.previousIm = new Float64Array(n);
    this.crossRe = new Float64Array(n);
    this.crossIm = new Float64Array(n);
  }

  /** Forgets the previous image: the next call has nothing to compare with. */
  reset(): void {
    this.hasPrevious = false;
  }

  /**
   * The likeliest shifts from the previous image given to this one, best first (at most
   * `candidates`: the highest local peaks), or undefined for the first image. `grey` is
   * `width x height`, row-major. Several, because big moving objects make peaks of their own;
   * which one is the camera, the caller decides (camera-motion.ts).
   */
  estimate(grey: Float32Array, candidates = 3): ShiftEstimate[] | undefined {
    const { windowWidth: w, windowHeight: h, re, im } = this;
    let mean = 0;
    for (let y = 0; y < h; y++) {
      const row = (this.top + y) * this.width + this.left;
      for (let x = 0; x < w; x++) mean += grey[row + x]!;
    }
    mean /= w * h;
    for (let y = 0; y < h; y++) {
      const row = (this.top + y) * this.width + this.left;
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        re[i] = (grey[row + x]! - mean) * this.taper[i]!;
        im[i] = 0;
      }
    }
    this.fft.transform(re, im);
    const result = this.hasPrevious ? this.correlate(candidates) : undefined;
    // This spectrum is the next call's previous one; the buffers swap instead of copying.
    [this.previousRe, this.re] = [this.re, this.previousRe];
    [this.previousIm, this.im] = [this.im, this.previousIm];
    this.hasPrevious = true;
    return result;
  }

  /** The peaks of the normalized cross power spectrum of `re/im` (now) and the previous one. */
  private correlate(candidates: number): ShiftEstimate[] {
    const { windowWidth: w, windowHeight: h, re, im, previousRe, previousIm, crossRe, crossIm } = this;
    const n = w * h;
    for (let i = 0; i < n; i++) {
      const ar = re[i]!;
      const ai = im[i]!;
      const br = previousRe[i]!;
      const bi = -previousIm[i]!;
      const cr = ar * br - ai * bi;
      const ci = ar * bi + ai * br;
      const magnitude = Math.sqrt(cr * cr + ci * ci);
      if (magnitude > 1e-9) {
        crossRe[i] = cr / magnitude;
        crossIm[i] = ci / magnitude;
      } else {
        crossRe[i] = 0;
        crossIm[i] = 0;
      }
    }
    this.fft.transform(crossRe, crossIm, true);
    const at = (x: number, y: number) => crossRe[((y + h) % h) * w + ((x + w) % w)]!;
    // The highest local maxima (3x3, the correlation wraps around), kept sorted.
    const peaks: number[] = [];
    for (let py = 0; py < h; py++) {
      for (let px = 0; px < w; px++) {
        const value = crossRe[py * w + px]!;
        if (peaks.length === candidates && value <= crossRe[peaks[peaks.length - 1]!]!) continue;
        if (!isLocalMaximum(at, px, py, value)) continue;
        if (peaks.length === candidates) peaks.pop();
        let k = peaks.length;
        peaks.push(0);
        for (; k > 0 && crossRe[peaks[k - 1]!]! < value; k--) peaks[k] = peaks[k - 1]!;
        peaks[k] = py * w + px;
      }
    }
    return peaks.map((index) => {
      const px = index % w;
      const py = (index - px) / w;
      const peak = crossRe[index]!;
      const sx = px + subpixel(at(px - 1, py), peak, at(px + 1, py));
      const sy = py + subpixel(at(px, py - 1), peak, at(px, py + 1));
      // The correlation is circular: a peak past half the window is a negative shift.
      return { dx: sx > w / 2 ? sx - w : sx, dy: sy > h / 2 ? sy - h : sy, confidence: Math.max(0, Math.min(1, peak / n)) };
    });
  }
}

function isLocalMaximum(at: (x: number, y: number) => number, x: number, y: number, value: number): boolean {
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) if ((dx !== 0 || dy !== 0) && at(x + dx, y + dy) > value) return false;
  }
  return true;
}

/** Offset of a peak from its middle sample, from a parabola through three samples. */
function subpixel(before: number, peak: number, after: number): number {
  const curvature = before - 2 * peak + after;
  if (curvature >= 0) return 0;
  return Math.max(-0.5, Math.min(0.5, (before - after) / (2 * curvature)));
}
