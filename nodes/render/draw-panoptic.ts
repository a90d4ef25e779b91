import type { PanopticFrame } from '../../pipeline/frame.ts';

export interface DrawOptions {
  /** Opacity of the class and instance colours over the video, 0..1. */
  readonly alpha: number;
  /** Draw each thing's outline in its full colour. */
  readonly contours: boolean;
}

/**
 * Blends segment colours over the frame into `out` (RGB24, same size): void pixels keep the
 * video, others mix with their segment's colour; thing outlines are drawn solid. One pass over
 * the pixels, integer arithmetic, no allocation.
 *
 * @param colors Flat RGB table by segment id (see segmentColorTable).
 * @param isThing `isThing[id]` is 1 for thing segments.
 */
export function drawPanoptic(
  frame: Uint8Array,
  panoptic: PanopticFrame,
  colors: Uint8Array,
  isThing: Uint8Array,
  options: DrawOptions,
  out: Uint8Array,
): void {
  const { width, height, segmentMap } = panoptic;
  const a = Math.round(options.alpha * 256);
  const keep = 256 - a;
  for (let y = 0, p = 0; y < height; y++) {
    for (let x = 0; x < width; x++, p++) {
      const seg = segmentMap[p]!;
      const o = p * 3;
      if (seg === 0) {
        out[o] = frame[o]!;
        out[o + 1] = frame[o + 1]!;
        out[o + 2] = frame[o + 2]!;
        continue;
      }
      const c = seg * 3;
      const edge =
        options.contours &&
        isThing[seg] === 1 &&
        ((x > 0 && segmentMap[p - 1] !== seg) ||
          (y > 0 && segmentMap[p - width] !== seg) ||
          (x + 1 < width && segmentMap[p + 1] !== seg) ||
          (y + 1 < height && segmentMap[p + width] !== seg));
      if (edge) {
        out[o] = colors[c]!;
        out[o + 1] = colors[c + 1]!;
        out[o + 2] = colors[c + 2]!;
      } else {
        out[o] = (frame[o]! * keep + colors[c]! * a) >> 8;
        out[o + 1] = (frame[o + 1]! * keep + colors[c + 1]! * a) >> 8;
        out[o + 2] = (frame[o + 2]! * keep + colors[c + 2]! * a) >> 8;
      }
    }
  }
}
