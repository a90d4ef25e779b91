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
