/**
 * Where to track the camera from: the strongest corner in each cell of a grid over the image
 * (Shi and Tomasi's "good features to track": the smaller eigenvalue of the gradients'
 * structure tensor over a 5x5 window). One per cell spreads them over the whole view, so a
 * busy corner of the picture cannot outvote the rest; cells with no corner worth the name
 * (flat asphalt, sky) give none.
 */
import type { GreyImage } from './image-pyramid.ts';

/** A cell's best corner is kept when it is at least this share of the image's best. */
const QUALITY = 0.001;
/** Nor below this, whatever the best: a 5x5 window of sensor noise scores well under it. */
const LEAST_RESPONSE = 20;
/** Half the summing window (5x5). */
const WINDOW = 2;

export interface Corners {
  readonly x: Float32Array;
  readonly y: Float32Array;
  count: number;
}

export class CornerPicker {
  private readonly xx: Float32Array;
  private readonly xy: Float32Array;
  private readonly yy: Float32Array;
  private readonly scratch: Float32Array;
  private readonly response: Float32Array;
  readonly corners: Corners;
  private readonly columns: number;
  private readonly rows: number;

  /** `cells` is about how many corners to pick at most. */
  constructor(
    readonly width: number,
    readonly height: number,
    cells: number,
    /** Pixels from the border where no corner is taken (a tracking window must fit). */
    private readonly margin: number,
  ) {
    const n = width * height;
    this.xx = new Float32Array(n);
    this.xy = new Float32Array(n);
    this.yy = new Float32Array(n);
    this.scratch = new Float32Array(n);
    this.response = new Float32Array(n);
    const cellSide = Math.max(4, Math.sqrt((width * height) / cells));
    this.columns = Math.max(1, Math.round(width / cellSide));
    this.rows = Math.max(1, Math.round(height / cellSide));
    this.corners = { x: new Float32Array(this.columns * this.rows), y: new Float32Array(this.columns * this.rows), count: 0 };
  }

  /** Picks corners of `image` (this picker's size); `excluded(x, y)` rules out a pixel (something moving there). */
  pick(image: GreyImage, excluded?: (x: number, y: number) => boolean): Corners {
    const { width: w, height: h, xx, xy, yy, response } = this;
    const g = image.data;
    xx.fill(0);
    xy.fill(0);
    yy.fill(0);
    for (let y = 1; y < h - 1; y++) {
      for (let x = 1; x < w - 1; x++) {
        const i = y * w + x;
        const gx = 0.5 * (g[i + 1]! - g[i - 1]!);
        const gy = 0.5 * (g[i + w]! - g[i - w]!);
        xx[i] = gx * gx;
        xy[i] = gx * gy;
        yy[i] = gy * gy;
      }
    }
    this.boxSum(xx);
    this.boxSum(xy);
    this.boxSum(yy);
    let best = 0;
    for (let i = 0; i < w * h; i++) {
      const a = xx[i]!;
      const b = xy[i]!;
      const c = yy[i]!;
      const half = 0.5 * (a - c);
      const smaller = 0.5 * (a + c) - Math.sqrt(half * half + b * b);
      response[i] = smaller;
      if (smaller > best) best = smaller;
    }
    const floor = Math.max(LEAST_RESPONSE, QUALITY * best);
    const { corners, columns, rows, margin } = this;
    corners.count = 0;
    for (let row = 0; row < rows; row++) {
      const y1 = Math.max(margin, Math.floor((row * h) / rows));
      const y2 = Math.min(h - margin, Math.floor(((row + 1) * h) / rows));
      for (let column = 0; column < columns; column++) {
        const x1 = Math.max(margin, Math.floor((column * w) / columns));
        const x2 = Math.min(w - margin, Math.floor(((column + 1) * w) / columns));
        let top = floor;
        let at = -1;
        for (let y = y1; y < y2; y++) {
          for (let x = x1; x < x2; x++) {
            const r = response[y * w + x]!;
            if (r > top) {
              top = r;
              at = y * w + x;
            }
          }
        }
        if (at < 0) continue;
        const cx = at % w;
        const cy = (at - cx) / w;
        if (excluded?.(cx, cy)) continue;
        corners.x[corners.count] = cx;
        corners.y[corners.count] = cy;
        corners.count++;
      }
    }
    return corners;
  }

  /** Sums of `values` over the 5x5 window around each pixel, in place (a row pass, then a column pass). */
  private boxSum(values: Float32Array): void {
    const { width: w, height: h, scratch } = this;
    for (let y = 0; y < h; y++) {
      const row = y * w;
      let sum = 0;
      for (let x = 0; x < Math.min(WINDOW, w); x++) sum += values[row + x]!;
      for (let x = 0; x < w; x++) {
        if (x + WINDOW < w) sum += values[row + x + WINDOW]!;
        if (x - WINDOW - 1 >= 0) sum -= values[row + x - WINDOW - 1]!;
        scratch[row + x] = sum;
      }
    }
    for (let x = 0; x < w; x++) {
      let sum = 0;
      for (let y = 0; y < Math.min(WINDOW, h); y++) sum += scratch[y * w + x]!;
      for (let y = 0; y < h; y++) {
        if (y + WINDOW < h) sum += scratch[(y + WINDOW) * w + x]!;
        if (y - WINDOW - 1 >= 0) sum -= scratch[(y - WINDOW - 1) * w + x]!;
        values[y * w + x] = sum;
      }
    }
  }
}
