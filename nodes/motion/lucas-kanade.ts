/**
 * Pyramidal Lucas-Kanade (Bouguet's formulation): where each point of the previous image went
 * in this one. At every pyramid level, from the coarsest down, a window around the point in the
 * previous image is matched against this image by Gauss-Newton steps on the brightness
 * difference, starting from the level above's answer doubled: motions of tens of pixels become
 * sub-pixel ones at the bottom, and the answer is sub-pixel too (bilinear sampling).
 *
 * The window's sampling weights are the same for all its pixels (one fractional offset per
 * point), so a window is read with one set of weights and clamped row and column indices into
 * buffers made once: nothing allocated per pixel.
 */
import type { GreyImage, ImagePyramid } from './image-pyramid.ts';

/** Steps per level at most, and the step below which a level is done (pixels). */
const ITERATIONS = 12;
const CONVERGED = 0.01;
/** A window whose gradients are this weak (smaller eigenvalue per pixel) has nothing to lock on to. */
const LEAST_EIGEN_PER_PIXEL = 0.5;

export interface TrackedPoints {
  readonly x: Float32Array;
  readonly y: Float32Array;
  /** 1 where the point was followed, 0 where it was lost (flat window, left the image). */
  readonly found: Uint8Array;
}

export class LucasKanade {
  private readonly side: number;
  private readonly template: Float32Array;
  private readonly gradX: Float32Array;
  private readonly gradY: Float32Array;
  /** The template window with a one-pixel border, for its gradients. */
  private readonly bordered: Float32Array;
  private readonly window: Float32Array;
  private readonly columns: Int32Array;
  private readonly rows: Int32Array;
  readonly result: TrackedPoints;

  constructor(
    capacity: number,
    /** Half the window's side: 7 gives 15x15. */
    private readonly radius = 7,
  ) {
    this.side = 2 * radius + 1;
    const n = this.side * this.side;
    this.template = new Float32Array(n);
    this.gradX = new Float32Array(n);
    this.gradY = new Float32Array(n);
    this.bordered = new Float32Array((this.side + 2) ** 2);
    this.window = new Float32Array(n);
    this.columns = new Int32Array(this.side + 3);
    this.rows = new Int32Array(this.side + 3);
    this.result = { x: new Float32Array(capacity), y: new Float32Array(capacity), found: new Uint8Array(capacity) };
  }

  /**
   * Follows `count` points (level-0 pixels of `from`) into `to`, each search starting where
   * `guess` says the point went (the camera motion so far); results in {@link result}.
   */
  track(
    from: ImagePyramid,
    to: ImagePyramid,
    xs: Float32Array,
    ys: Float32Array,
    count: number,
    guess: (x: number, y: number) => readonly [number, number] = (x, y) => [x, y],
  ): TrackedPoints {
    const { result } = this;
    const top = Math.min(from.levels.length, to.levels.length) - 1;
    for (let p = 0; p < count; p++) {
      const scaleTop = 2 ** top;
      const [startX, startY] = guess(xs[p]!, ys[p]!);
      let gx = (startX - xs[p]!) / scaleTop;
      let gy = (startY - ys[p]!) / scaleTop;
      let found = true;
      for (let level = top; level >= 0 && found; level--) {
        const scale = 2 ** level;
        const px = xs[p]! / scale;
        const py = ys[p]! / scale;
        const step = this.refine(from.levels[level]!, to.levels[level]!, px, py, gx, gy);
        if (step === undefined) {
          found = false;
          break;
        }
        gx = step[0];
        gy = step[1];
        if (level > 0) {
          gx *= 2;
          gy *= 2;
        }
      }
      const x = xs[p]! + gx;
      const y = ys[p]! + gy;
      const base = to.levels[0]!;
      result.x[p] = x;
      result.y[p] = y;
      result.found[p] = found && x >= 0 && y >= 0 && x <= base.width - 1 && y <= base.height - 1 ? 1 : 0;
    }
    return result;
  }

  /** The displacement of the window at `(px, py)` from `previous` into `current`, from `(gx, gy)`; undefined when it cannot be followed. */
  private refine(previous: GreyImage, current: GreyImage, px: number, py: number, gx: number, gy: number): [number, number] | undefined {
    const { side, template, gradX, gradY, bordered, window } = this;
    const n = side * side;
    this.sample(previous, px - this.radius - 1, py - this.radius - 1, side + 2, bordered);
    let sxx = 0;
    let sxy = 0;
    let syy = 0;
    const b = side + 2;
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const at = (y + 1) * b + x + 1;
        const i = y * side + x;
        template[i] = bordered[at]!;
        const dx = 0.5 * (bordered[at + 1]! - bordered[at - 1]!);
        const dy = 0.5 * (bordered[at + b]! - bordered[at - b]!);
        gradX[i] = dx;
        gradY[i] = dy;
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
      }
    }
    const det = sxx * syy - sxy * sxy;
    const half = 0.5 * (sxx - syy);
    const smaller = 0.5 * (sxx + syy) - Math.sqrt(half * half + sxy * sxy);
    if (smaller / n < LEAST_EIGEN_PER_PIXEL || det <= 0) return undefined;
    let vx = gx;
    let vy = gy;
    for (let iteration = 0; iteration < ITERATIONS; iteration++) {
      const wx = px + vx - this.radius;
      const wy = py + vy - this.radius;
      if (wx < -side || wy < -side || wx > current.width || wy > current.height) return undefined;
      this.sample(current, wx, wy, side, window);
      let bx = 0;
      let by = 0;
      for (let i = 0; i < n; i++) {
        const difference = template[i]! - window[i]!;
        bx += difference * gradX[i]!;
        by += difference * gradY[i]!;
      }
      const dx = (syy * bx - sxy * by) / det;
      const dy = (sxx * by - sxy * bx) / det;
      vx += dx;
      vy += dy;
      if (dx * dx + dy * dy < CONVERGED * CONVERGED) break;
    }
    return [vx, vy];
  }

  /** A `side x side` window of `image` whose top-left is at `(x0, y0)`, bilinear, edges clamped. */
  private sample(image: GreyImage, x0: number, y0: number, side: number, out: Float32Array): void {
    const { width: w, height: h, data } = image;
    const ix = Math.floor(x0);
    const iy = Math.floor(y0);
    const fx = x0 - ix;
    const fy = y0 - iy;
    const { columns, rows } = this;
    for (let k = 0; k <= side; k++) {
      columns[k] = Math.min(w - 1, Math.max(0, ix + k));
      rows[k] = Math.min(h - 1, Math.max(0, iy + k)) * w;
    }
    const w00 = (1 - fx) * (1 - fy);
    const w10 = fx * (1 - fy);
    const w01 = (1 - fx) * fy;
    const w11 = fx * fy;
    for (let y = 0; y < side; y++) {
      const r0 = rows[y]!;
      const r1 = rows[y + 1]!;
      for (let x = 0; x < side; x++) {
        const c0 = columns[x]!;
        const c1 = columns[x + 1]!;
        out[y * side + x] = w00 * data[r0 + c0]! + w10 * data[r0 + c1]! + w01 * data[r1 + c0]! + w11 * data[r1 + c1]!;
      }
    }
  }
}
