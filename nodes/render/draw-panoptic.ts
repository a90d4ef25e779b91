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
 * Segments come in runs along a row, so the colour is looked up once per run and only thing
 * runs look at their neighbours; a run's left and right neighbours differ by construction.
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
  const contours = options.contours;
  for (let y = 0; y < height; y++) {
    const rowStart = y * width;
    const rowEnd = rowStart + width;
    const hasAbove = y > 0;
    const hasBelow = y + 1 < height;
    let p = rowStart;
    while (p < rowEnd) {
      const seg = segmentMap[p]!;
      let end = p + 1;
      while (end < rowEnd && segmentMap[end] === seg) end++;
      if (seg === 0) {
        for (let o = p * 3, stop = end * 3; o < stop; o++) out[o] = frame[o]!;
        p = end;
        continue;
      }
      const c = seg * 3;
      const red = colors[c]!;
      const green = colors[c + 1]!;
      const blue = colors[c + 2]!;
      const redA = red * a;
      const greenA = green * a;
      const blueA = blue * a;
      const outline = contours && isThing[seg] === 1;
      for (let q = p, o = p * 3; q < end; q++, o += 3) {
        const edge =
          outline &&
          ((q === p && p > rowStart) ||
            (q === end - 1 && end < rowEnd) ||
            (hasAbove && segmentMap[q - width] !== seg) ||
            (hasBelow && segmentMap[q + width] !== seg));
        if (edge) {
          out[o] = red;
          out[o + 1] = green;
          out[o + 2] = blue;
        } else {
          out[o] = (frame[o]! * keep + redA) >> 8;
          out[o + 1] = (frame[o + 1]! * keep + greenA) >> 8;
          out[o + 2] = (frame[o + 2]! * keep + blueA) >> 8;
        }
      }
      p = end;
    }
  }
}
