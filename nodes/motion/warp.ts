/**
 * Resampling a plane through an affine map, bilinear: `out[p] = image(affine(p))`, NaN where
 * `affine(p)` falls outside the image (nothing seen there). The motion segmenter reads each new
 * frame into its background's own pixel grid this way, so the background is never resampled
 * frame after frame (each resampling blurs it a little, and sub-pixel drifts would add up).
 */
import type { Affine } from '../../lib/geometry/affine.ts';

export function warpBilinear(image: Float32Array, width: number, height: number, affine: Affine, out: Float32Array): void {
  const [a, b, c, d, e, f] = affine;
  const maxX = width - 1;
  const maxY = height - 1;
  if (maxX < 1 || maxY < 1) {
    // A row or a column of pixels has nothing to interpolate between: read as unseen.
    out.fill(NaN);
    return;
  }
  for (let y = 0; y < height; y++) {
    let sx = b * y + c;
    let sy = e * y + f;
    const row = y * width;
    for (let x = 0; x < width; x++, sx += a, sy += d) {
      if (sx < 0 || sy < 0 || sx > maxX || sy > maxY) {
        out[row + x] = NaN;
        continue;
      }
      const ix = sx >= maxX ? maxX - 1 : Math.floor(sx);
      const iy = sy >= maxY ? maxY - 1 : Math.floor(sy);
      const fx = sx - ix;
      const fy = sy - iy;
      const i = iy * width + ix;
      const top = image[i]! + fx * (image[i + 1]! - image[i]!);
      const bottom = image[i + width]! + fx * (image[i + width + 1]! - image[i + width]!);
      out[row + x] = top + fy * (bottom - top);
    }
  }
}

/** Typed planes the whole-pixel moves below work on: background levels and times, blob ages. */
type Plane = Float32Array | Float64Array | Uint8Array;

/**
 * `out[p] = plane(affine(p))` at the nearest pixel, `empty` where that falls outside: for what
 * must not be blended (when a pixel started being watched, a blob's age).
 */
export function warpNearest<T extends Plane>(plane: T, width: number, height: number, affine: Affine, empty: number, out: T): void {
  const [a, b, c, d, e, f] = affine;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sx = Math.round(a * x + b * y + c);
      const sy = Math.round(d * x + e * y + f);
      out[y * width + x] = sx < 0 || sy < 0 || sx >= width || sy >= height ? empty : plane[sy * width + sx]!;
    }
  }
}

/** Moves a plane by whole pixels into `out`, content at `(x, y)` to `(x + dx, y + dy)`; uncovered pixels get `empty`. */
export function shiftPlane<T extends Plane>(plane: T, width: number, height: number, dx: number, dy: number, empty: number, out: T): void {
  warpNearest(plane, width, height, [1, 0, -dx, 0, 1, -dy], empty, out);
}
