/**
 * A reference to measure our own motion code against: OpenCV, compiled to WebAssembly
 * (`@techstark/opencv-js`, a devDependency), driven the way the field drives it.
 *
 * - {@link OpenCvCameraMotion}: camera motion previous → current frame as OpenCV's videostab and
 *   BoT-SORT's GMC estimate it: `goodFeaturesToTrack` on the previous frame, pyramidal
 *   Lucas-Kanade (`calcOpticalFlowPyrLK`) into the current one, and a RANSAC fit of a partial
 *   affine (rotation + uniform scale + translation) to the followed corners.
 * - {@link OpenCvMog2}: `BackgroundSubtractorMOG2` foreground, shadows dropped, 3x3 open + close.
 * - {@link opencvBlobs}: `connectedComponentsWithStats`.
 *
 * Loading: the package is an Emscripten/UMD CommonJS file; from ESM it is `require`d through
 * `createRequire`. The object it exports is not ready until the wasm runtime has initialised
 * (asynchronously, ~0.1-0.3 s), and it carries Emscripten's old `then(cb)` method, which makes it
 * a *thenable that resolves to itself*: `await cv`, or returning it from an async function,
 * spins the microtask queue forever (the process hangs at 100% CPU, timers never fire).
 * {@link loadOpenCv} waits through `then`, deletes it, and only then hands the object out.
 * Requiring the package also installs Emscripten's process-wide `uncaughtException` and
 * `unhandledRejection` handlers (one rethrows with opencv.js's whole one-line source as the
 * location, the other aborts the wasm runtime on any unhandled rejection in the process);
 * {@link loadOpenCv} removes them again.
 *
 * No opencv.js build (4.5.1 ... 4.12) exports `estimateAffinePartial2D` (its bindings whitelist
 * only `estimateAffine2D` from calib3d), so the partial-affine fit is
 * {@link estimateAffinePartial2D}, a port of OpenCV's own (calib3d/src/ptsetreg.cpp: the same
 * RNG and seed, 2-point subsets, RANSACUpdateNumIters, float32 error, then the inliers' least
 * squares — which is what its Levenberg-Marquardt refinement converges to, the model being
 * linear in its 4 parameters). (A port of the full affine, written only to check this one's
 * machinery against the native `cv.estimateAffine2D`, was dropped after that check.)
 *
 * Every cv.Mat made here is deleted: per-call ones in `finally`, per-instance ones by `dispose()`.
 */
import { createRequire } from 'node:module';

// ---------------------------------------------------------------------------------------------
// The part of the opencv.js API used here. The package ships its own typings, but they are large,
// differ between releases, and type the module as a Promise it is not; this minimal local
// interface is what the harness relies on.

/** An embind-wrapped cv::Mat. Its typed-array views are fresh on each access (the wasm heap can grow). */
export interface CvMat {
  readonly rows: number;
  readonly cols: number;
  readonly data: Uint8Array;
  readonly data32S: Int32Array;
  readonly data32F: Float32Array;
  delete(): void;
}

/** cv.Size and cv.TermCriteria are plain JS value objects in opencv.js (nothing to delete). */
export interface CvSize {
  readonly width: number;
  readonly height: number;
}
export interface CvTermCriteria {
  readonly type: number;
  readonly maxCount: number;
  readonly epsilon: number;
}

export interface CvBackgroundSubtractorMOG2 {
  apply(image: CvMat, fgmask: CvMat, learningRate?: number): void;
  delete(): void;
}

export interface OpenCv {
  readonly Mat: { new (): CvMat; new (rows: number, cols: number, type: number): CvMat };
  readonly Size: new (width: number, height: number) => CvSize;
  readonly TermCriteria: new (type: number, maxCount: number, epsilon: number) => CvTermCriteria;
  readonly BackgroundSubtractorMOG2: new (history: number, varThreshold: number, detectShadows: boolean) => CvBackgroundSubtractorMOG2;
  readonly CV_8UC1: number;
  readonly CV_8UC3: number;
  readonly CV_32S: number;
  readonly MORPH_RECT: number;
  readonly MORPH_OPEN: number;
  readonly MORPH_CLOSE: number;
  readonly THRESH_BINARY: number;
  readonly TermCriteria_COUNT: number;
  readonly TermCriteria_EPS: number;
  readonly CC_STAT_LEFT: number;
  readonly CC_STAT_TOP: number;
  readonly CC_STAT_WIDTH: number;
  readonly CC_STAT_HEIGHT: number;
  readonly CC_STAT_AREA: number;
  goodFeaturesToTrack(
    image: CvMat,
    corners: CvMat,
    maxCorners: number,
    qualityLevel: number,
    minDistance: number,
    mask: CvMat,
    blockSize: number,
    useHarrisDetector: boolean,
    k: number,
  ): void;
  calcOpticalFlowPyrLK(
    prevImg: CvMat,
    nextImg: CvMat,
    prevPts: CvMat,
    nextPts: CvMat,
    status: CvMat,
    err: CvMat,
    winSize: CvSize,
    maxLevel: number,
    criteria: CvTermCriteria,
  ): void;
  getStructuringElement(shape: number, ksize: CvSize): CvMat;
  morphologyEx(src: CvMat, dst: CvMat, op: number, kernel: CvMat): void;
  threshold(src: CvMat, dst: CvMat, thresh: number, maxval: number, type: number): number;
  connectedComponentsWithStats(image: CvMat, labels: CvMat, stats: CvMat, centroids: CvMat, connectivity: number, ltype: number): number;
}

/** What the package's CommonJS export is before the runtime is ready. */
interface EmscriptenModuleObject {
  then?: (onReady: (module: unknown) => void) => unknown;
  Mat?: unknown;
}

let loading: Promise<OpenCv> | undefined;

/**
 * opencv.js, its wasm runtime initialised. Loaded once per process; later calls get the same
 * object. (Loading takes ~0.2-0.3 s: compiling the ~8-11 MB of inlined wasm.)
 */
export function loadOpenCv(): Promise<OpenCv> {
  loading ??= new Promise<OpenCv>((resolve, reject) => {
    try {
      const require = createRequire(import.meta.url);
      const uncaught = new Set(process.listeners('uncaughtException'));
      const unhandled = new Set(process.listeners('unhandledRejection'));
      const exported: unknown = require('@techstark/opencv-js');
      // Emscripten's Node shim adds process-wide handlers: one rethrows every uncaught exception
      // (Node then prints opencv.js's 8-11 MB one-line source as the error's location), the other
      // turns any unhandled rejection anywhere into abort() of the wasm runtime. They serve only
      // Emscripten's exit(); take them off again.
      for (const listener of process.listeners('uncaughtException')) if (!uncaught.has(listener)) process.removeListener('uncaughtException', listener);
      for (const listener of process.listeners('unhandledRejection')) if (!unhandled.has(listener)) process.removeListener('unhandledRejection', listener);
      const finish = (value: unknown): void => {
        const module = value as EmscriptenModuleObject;
        // Without this, resolving a promise with the module recurses through `then` forever.
        if (typeof module.then === 'function') delete module.then;
        resolve(value as OpenCv);
      };
      if (exported instanceof Promise) {
        // Newer builds may export a real promise (MODULARIZE); its value must not be a thenable.
        exported.then(finish, reject);
        return;
      }
      const module = exported as EmscriptenModuleObject;
      if (typeof module.then === 'function') {
        // Calls back at once if the runtime is already up, else from onRuntimeInitialized.
        module.then(() => finish(module));
      } else if (module.Mat !== undefined) {
        finish(module);
      } else {
        reject(new Error('@techstark/opencv-js: neither ready nor awaitable'));
      }
    } catch (error) {
      reject(error instanceof Error ? error : new Error(String(error)));
    }
  });
  return loading;
}

// ---------------------------------------------------------------------------------------------
// Camera motion

/** `[a, b, c, d, e, f]`: x' = a*x + b*y + c, y' = d*x + e*y + f (previous frame → current frame). */
export type AffineTuple = [a: number, b: number, c: number, d: number, e: number, f: number];

export interface OpenCvCameraMotionOptions {
  /** RANSAC reprojection threshold in pixels (OpenCV's default is 3). Default 1. */
  readonly ransacThreshold?: number;
  /** `goodFeaturesToTrack`: default 300, 0.01, width/60, 3. */
  readonly maxCorners?: number;
  readonly qualityLevel?: number;
  readonly minDistance?: number;
  readonly blockSize?: number;
  /** `calcOpticalFlowPyrLK`: default 21 (square window) and 3. */
  readonly winSize?: number;
  readonly maxLevel?: number;
  /** RANSAC iterations at most, confidence, refinement iterations: OpenCV's defaults 2000, 0.99, 10. */
  readonly maxIters?: number;
  readonly confidence?: number;
  readonly refineIters?: number;
}

export interface OpenCvCameraMotionEstimate {
  /** Previous → current frame, in pixels. The identity when no fit was found (see `points`). */
  readonly affine: AffineTuple;
  /** RANSAC inliers / `points`; 0 when no fit was found. */
  readonly inlierShare: number;
  /** Corners followed by Lucas-Kanade (status 1) from the previous frame. */
  readonly points: number;
  /** Corners `goodFeaturesToTrack` found in the previous frame. */
  readonly corners: number;
  /** Wall time of this call (copy in, corners, flow, fit). */
  readonly ms: number;
}

export class OpenCvCameraMotion {
  private previous: CvMat;
  private current: CvMat;
  private hasPrevious = false;
  private readonly options: Required<OpenCvCameraMotionOptions>;

  constructor(
    private readonly cv: OpenCv,
    readonly width: number,
    readonly height: number,
    options: OpenCvCameraMotionOptions = {},
  ) {
    this.options = {
      ransacThreshold: options.ransacThreshold ?? 1,
      maxCorners: options.maxCorners ?? 300,
      qualityLevel: options.qualityLevel ?? 0.01,
      minDistance: options.minDistance ?? width / 60,
      blockSize: options.blockSize ?? 3,
      winSize: options.winSize ?? 21,
      maxLevel: options.maxLevel ?? 3,
      maxIters: options.maxIters ?? 2000,
      confidence: options.confidence ?? 0.99,
      refineIters: options.refineIters ?? 10,
    };
    this.previous = new cv.Mat(height, width, cv.CV_8UC1);
    this.current = new cv.Mat(height, width, cv.CV_8UC1);
  }

  /** Motion from the previous frame given to this one; undefined for the first frame. */
  estimate(grey: Uint8Array): OpenCvCameraMotionEstimate | undefined {
    const { cv, width, height, options: o } = this;
    if (grey.length !== width * height) throw new Error(`grey frame of ${grey.length} bytes, expected ${width}x${height}`);
    const start = performance.now();
    this.current.data.set(grey);
    if (!this.hasPrevious) {
      this.swap();
      this.hasPrevious = true;
      return undefined;
    }
    const made: CvMat[] = [];
    const mat = (): CvMat => {
      const m = new cv.Mat();
      made.push(m);
      return m;
    };
    try {
      const corners = mat();
      const none = mat();
      cv.goodFeaturesToTrack(this.previous, corners, o.maxCorners, o.qualityLevel, o.minDistance, none, o.blockSize, false, 0.04);
      const cornerCount = corners.rows;
      let result: OpenCvCameraMotionEstimate;
      if (cornerCount === 0) {
        result = { affine: [1, 0, 0, 0, 1, 0], inlierShare: 0, points: 0, corners: 0, ms: 0 };
      } else {
        const next = mat();
        const status = mat();
        const error = mat();
        const criteria = new cv.TermCriteria(cv.TermCriteria_COUNT | cv.TermCriteria_EPS, 30, 0.01);
        cv.calcOpticalFlowPyrLK(this.previous, this.current, corners, next, status, error, new cv.Size(o.winSize, o.winSize), o.maxLevel, criteria);
        const st = status.data;
        const p0 = corners.data32F;
        const p1 = next.data32F;
        let n = 0;
        for (let i = 0; i < cornerCount; i++) if (st[i] === 1) n++;
        const from = new Float32Array(2 * n);
        const to = new Float32Array(2 * n);
        for (let i = 0, j = 0; i < cornerCount; i++) {
          if (st[i] !== 1) continue;
          from[2 * j] = p0[2 * i]!;
          from[2 * j + 1] = p0[2 * i + 1]!;
          to[2 * j] = p1[2 * i]!;
          to[2 * j + 1] = p1[2 * i + 1]!;
          j++;
        }
        const fit = estimateAffinePartial2D(from, to, { threshold: o.ransacThreshold, maxIters: o.maxIters, confidence: o.confidence, refineIters: o.refineIters });
        result = fit
          ? { affine: fit.affine, inlierShare: n > 0 ? fit.inliers / n : 0, points: n, corners: cornerCount, ms: 0 }
          : { affine: [1, 0, 0, 0, 1, 0], inlierShare: 0, points: n, corners: cornerCount, ms: 0 };
      }
      this.swap();
      return { ...result, ms: performance.now() - start };
    } finally {
      for (const m of made) m.delete();
    }
  }

  /** Free the wasm memory; the instance is unusable afterwards. */
  dispose(): void {
    this.previous.delete();
    this.current.delete();
  }

  private swap(): void {
    const t = this.previous;
    this.previous = this.current;
    this.current = t;
  }
}

// ---------------------------------------------------------------------------------------------
// RANSAC, ported from OpenCV 4.x calib3d/src/ptsetreg.cpp (RANSACPointSetRegistrator,
// AffinePartial2DEstimatorCallback, estimateAffinePartial2D).

interface AffineFit {
  readonly affine: AffineTuple;
  /** RANSAC inliers (the mask is RANSAC's, before refinement, as OpenCV returns it). */
  readonly inliers: number;
  /** 1 per inlier, 0 per outlier. */
  readonly mask: Uint8Array;
}

interface RansacOptions {
  /** Reprojection threshold in pixels (OpenCV's default 3). */
  readonly threshold?: number;
  readonly maxIters?: number;
  readonly confidence?: number;
  /** 0: no refinement; otherwise the inliers' least squares (OpenCV: LM, `refineIters` steps). */
  readonly refineIters?: number;
}

/** cv::RNG: multiply-with-carry, state 64 bits; `RNG((uint64)-1)` is RANSAC's seed. */
class CvRng {
  private state = 0xffffffffffffffffn;
  private next(): number {
    const s = this.state;
    this.state = ((s & 0xffffffffn) * 4164903690n + (s >> 32n)) & 0xffffffffffffffffn;
    return Number(this.state & 0xffffffffn);
  }
  /** rng.uniform(a, b) for ints, a <= result < b. */
  uniform(a: number, b: number): number {
    return a === b ? a : (this.next() % (b - a)) + a;
  }
}

const f32 = Math.fround;

/** Solves the model from exactly `modelPoints` pairs (indices into from/to); false when degenerate. */
type Kernel = (from: Float32Array, to: Float32Array, idx: readonly number[], out: Float64Array) => boolean;
type SubsetCheck = (from: Float32Array, idx: readonly number[]) => boolean;

function ransacUpdateNumIters(p: number, ep: number, modelPoints: number, maxIters: number): number {
  p = Math.min(Math.max(p, 0), 1);
  ep = Math.min(Math.max(ep, 0), 1);
  let num = Math.max(1 - p, Number.MIN_VALUE);
  let denom = 1 - Math.pow(1 - ep, modelPoints);
  if (denom < 2.2250738585072014e-308) return 0;
  num = Math.log(num);
  denom = Math.log(denom);
  return denom >= 0 || -num >= maxIters * -denom ? maxIters : Math.round(num / denom);
}

/** Squared float32 reprojection error of every pair against `h`, as computeError does. */
function findInliers(from: Float32Array, to: Float32Array, h: Float64Array, threshold: number, mask: Uint8Array): number {
  const [F0, F1, F2, F3, F4, F5] = [f32(h[0]!), f32(h[1]!), f32(h[2]!), f32(h[3]!), f32(h[4]!), f32(h[5]!)];
  const t = f32(threshold * threshold);
  let good = 0;
  for (let i = 0, n = from.length / 2; i < n; i++) {
    const x = from[2 * i]!;
    const y = from[2 * i + 1]!;
    const a = f32(f32(f32(f32(F0 * x) + f32(F1 * y)) + F2) - to[2 * i]!);
    const b = f32(f32(f32(f32(F3 * x) + f32(F4 * y)) + F5) - to[2 * i + 1]!);
    const e = f32(f32(a * a) + f32(b * b));
    const inlier = e <= t ? 1 : 0;
    mask[i] = inlier;
    good += inlier;
  }
  return good;
}

/** std::find(idx, idx + i, k) != idx + i */
function chosenBefore(idx: readonly number[], i: number, k: number): boolean {
  for (let j = 0; j < i; j++) if (idx[j] === k) return true;
  return false;
}

function ransac(
  from: Float32Array,
  to: Float32Array,
  modelPoints: number,
  kernel: Kernel,
  checkSubset: SubsetCheck,
  threshold: number,
  maxIters: number,
  confidence: number,
): { model: Float64Array; mask: Uint8Array; inliers: number } | undefined {
  const count = from.length / 2;
  if (count < modelPoints) return undefined;
  const all = Array.from({ length: count }, (_, i) => i);
  if (count === modelPoints) {
    const model = new Float64Array(6);
    if (!kernel(from, to, all, model)) return undefined;
    return { model, mask: new Uint8Array(count).fill(1), inliers: count };
  }
  const rng = new CvRng();
  let niters = Math.max(maxIters, 1);
  let maxGoodCount = 0;
  let bestModel: Float64Array | undefined;
  let bestMask = new Uint8Array(count);
  let mask = new Uint8Array(count);
  const model = new Float64Array(6);
  const idx: number[] = new Array<number>(modelPoints).fill(0);
  for (let iter = 0; iter < niters; iter++) {
    // getSubset(..., maxAttempts = 10000)
    let found = false;
    for (let attempt = 0; attempt < 10000 && !found; attempt++) {
      for (let i = 0; i < modelPoints; i++) {
        let k = rng.uniform(0, count);
        while (chosenBefore(idx, i, k)) k = rng.uniform(0, count);
        idx[i] = k;
      }
      found = checkSubset(from, idx);
    }
    if (!found) {
      if (iter === 0) return undefined;
      break;
    }
    if (!kernel(from, to, idx, model)) continue;
    const goodCount = findInliers(from, to, model, threshold, mask);
    if (goodCount > Math.max(maxGoodCount, modelPoints - 1)) {
      [mask, bestMask] = [bestMask, mask];
      bestModel = Float64Array.from(model);
      maxGoodCount = goodCount;
      niters = ransacUpdateNumIters(confidence, (count - goodCount) / count, modelPoints, niters);
    }
  }
  if (maxGoodCount <= 0 || !bestModel) return undefined;
  return { model: bestModel, mask: bestMask, inliers: maxGoodCount };
}

/** Exact similarity from 2 pairs (AffinePartial2DEstimatorCallback::runKernel). */
const partialKernel: Kernel = (from, to, idx, m) => {
  const x1 = from[2 * idx[0]!]!, y1 = from[2 * idx[0]! + 1]!, x2 = from[2 * idx[1]!]!, y2 = from[2 * idx[1]! + 1]!;
  const X1 = to[2 * idx[0]!]!, Y1 = to[2 * idx[0]! + 1]!, X2 = to[2 * idx[1]!]!, Y2 = to[2 * idx[1]! + 1]!;
  const d = 1 / ((x1 - x2) * (x1 - x2) + (y1 - y2) * (y1 - y2));
  const S0 = d * ((X1 - X2) * (x1 - x2) + (Y1 - Y2) * (y1 - y2));
  const S1 = d * ((Y1 - Y2) * (x1 - x2) - (X1 - X2) * (y1 - y2));
  const S2 = d * ((Y1 - Y2) * (x1 * y2 - x2 * y1) - (X1 * y2 - X2 * y1) * (y1 - y2) - (X1 * x2 - X2 * x1) * (x1 - x2));
  const S3 = d * (-(X1 - X2) * (x1 * y2 - x2 * y1) - (Y1 * x2 - Y2 * x1) * (x1 - x2) - (Y1 * y2 - Y2 * y1) * (y1 - y2));
  m[0] = S0;
  m[1] = -S1;
  m[2] = S2;
  m[3] = S1;
  m[4] = S0;
  m[5] = S3;
  return Number.isFinite(d);
};

/** Least squares of [a -b c; b a d] over the inliers (what OpenCV's LM refinement converges to). */
function refinePartial(from: Float32Array, to: Float32Array, mask: Uint8Array, m: Float64Array): void {
  // Unknowns (a, b, c, d): x' = a x - b y + c, y' = b x + a y + d. Centred, the normal equations decouple.
  let n = 0, mx = 0, my = 0, mX = 0, mY = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    n++;
    mx += from[2 * i]!;
    my += from[2 * i + 1]!;
    mX += to[2 * i]!;
    mY += to[2 * i + 1]!;
  }
  if (n < 2) return;
  mx /= n;
  my /= n;
  mX /= n;
  mY /= n;
  let sxx = 0, sa = 0, sb = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const x = from[2 * i]! - mx, y = from[2 * i + 1]! - my, X = to[2 * i]! - mX, Y = to[2 * i + 1]! - mY;
    sxx += x * x + y * y;
    sa += x * X + y * Y;
    sb += x * Y - y * X;
  }
  if (!(sxx > 0)) return;
  const a = sa / sxx, b = sb / sxx;
  m[0] = a;
  m[1] = -b;
  m[2] = mX - (a * mx - b * my);
  m[3] = b;
  m[4] = a;
  m[5] = mY - (b * mx + a * my);
}

/**
 * cv::estimateAffinePartial2D(from, to, inliers, RANSAC, threshold, maxIters, confidence,
 * refineIters), ported: opencv.js does not export it. `from`/`to` are interleaved x,y pairs.
 */
function estimateAffinePartial2D(from: Float32Array, to: Float32Array, options: RansacOptions = {}): AffineFit | undefined {
  if (from.length !== to.length || from.length % 2 !== 0) throw new Error('from/to: interleaved x,y pairs of equal length');
  // Two points are never collinear: the partial affine's subset check always passes.
  const found = ransac(from, to, 2, partialKernel, () => true, options.threshold ?? 3, options.maxIters ?? 2000, options.confidence ?? 0.99);
  if (!found) return undefined;
  if ((options.refineIters ?? 10) > 0) refinePartial(from, to, found.mask, found.model);
  const m = found.model;
  return { affine: [m[0]!, m[1]!, m[2]!, m[3]!, m[4]!, m[5]!], inliers: found.inliers, mask: found.mask };
}

// ---------------------------------------------------------------------------------------------
// Background subtraction

export interface OpenCvMog2Options {
  /** OpenCV's defaults: 500, 16, true. */
  readonly history: number;
  readonly varThreshold: number;
  readonly detectShadows: boolean;
}

export class OpenCvMog2 {
  private readonly frame: CvMat;
  private readonly foreground: CvMat;
  private readonly scratch: CvMat;
  private readonly kernel: CvMat;
  private readonly subtractor: CvBackgroundSubtractorMOG2;

  constructor(
    private readonly cv: OpenCv,
    readonly width: number,
    readonly height: number,
    options: OpenCvMog2Options,
  ) {
    this.frame = new cv.Mat(height, width, cv.CV_8UC3);
    this.foreground = new cv.Mat(height, width, cv.CV_8UC1);
    this.scratch = new cv.Mat(height, width, cv.CV_8UC1);
    this.kernel = cv.getStructuringElement(cv.MORPH_RECT, new cv.Size(3, 3));
    this.subtractor = new cv.BackgroundSubtractorMOG2(options.history, options.varThreshold, options.detectShadows);
  }

  /**
   * Learns `rgb` (width*height*3, interleaved) and returns its foreground: 1 where MOG2 says 255
   * (shadows, 127, are background), after a 3x3 open then close. `mask` is a fresh array.
   */
  apply(rgb: Uint8Array): { mask: Uint8Array; ms: number } {
    const { cv, width, height } = this;
    if (rgb.length !== width * height * 3) throw new Error(`rgb frame of ${rgb.length} bytes, expected ${width}x${height}x3`);
    const start = performance.now();
    this.frame.data.set(rgb);
    this.subtractor.apply(this.frame, this.foreground);
    cv.threshold(this.foreground, this.scratch, 254, 1, cv.THRESH_BINARY);
    cv.morphologyEx(this.scratch, this.foreground, cv.MORPH_OPEN, this.kernel);
    cv.morphologyEx(this.foreground, this.scratch, cv.MORPH_CLOSE, this.kernel);
    const mask = this.scratch.data.slice();
    return { mask, ms: performance.now() - start };
  }

  /** Free the wasm memory; the instance is unusable afterwards. */
  dispose(): void {
    this.frame.delete();
    this.foreground.delete();
    this.scratch.delete();
    this.kernel.delete();
    this.subtractor.delete();
  }
}

// ---------------------------------------------------------------------------------------------
// Blobs

export interface OpenCvBlob {
  /** Bounds in mask pixels, far edges exclusive (as nodes/motion/connected-components.ts). */
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
  readonly area: number;
}

/** The 8-connected components of `mask` (non-zero = foreground) with at least `minArea` pixels, in OpenCV's label order. */
export function opencvBlobs(mask: Uint8Array, width: number, height: number, minArea: number, cv: OpenCv): OpenCvBlob[] {
  if (mask.length !== width * height) throw new Error(`mask of ${mask.length} bytes, expected ${width}x${height}`);
  const image = new cv.Mat(height, width, cv.CV_8UC1);
  const labels = new cv.Mat();
  const stats = new cv.Mat();
  const centroids = new cv.Mat();
  try {
    image.data.set(mask);
    const n = cv.connectedComponentsWithStats(image, labels, stats, centroids, 8, cv.CV_32S);
    const s = stats.data32S;
    const w = stats.cols;
    const blobs: OpenCvBlob[] = [];
    for (let label = 1; label < n; label++) {
      const area = s[label * w + cv.CC_STAT_AREA]!;
      if (area < minArea) continue;
      const x1 = s[label * w + cv.CC_STAT_LEFT]!;
      const y1 = s[label * w + cv.CC_STAT_TOP]!;
      blobs.push({ x1, y1, x2: x1 + s[label * w + cv.CC_STAT_WIDTH]!, y2: y1 + s[label * w + cv.CC_STAT_HEIGHT]!, area });
    }
    return blobs;
  } finally {
    image.delete();
    labels.delete();
    stats.delete();
    centroids.delete();
  }
}
