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
 * Segments come in runs along a row: a run is blended in one tight loop with its colour looked
 * up once, then, for a thing, its outline pixels are painted over; a run's left and right
 * neighbours differ by construction, so only its ends and the rows above and below are checked.
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
      for (let o = p * 3, stop = end * 3; o < stop; o += 3) {
        out[o] = (frame[o]! * keep + redA) >> 8;
        out[o + 1] = (frame[o + 1]! * keep + greenA) >> 8;
        out[o + 2] = (frame[o + 2]! * keep + blueA) >> 8;
      }
      if (contours && isThing[seg] === 1) {
        for (let q = p; q < end; q++) {
          const edge =
            (q === p && p > rowStart) ||
            (q === end - 1 && end < rowEnd) ||
            (hasAbove && segmentMap[q - width] !== seg) ||
            (hasBelow && segmentMap[q + width] !== seg);
          if (!edge) continue;
          const o = q * 3;
          out[o] = red;
          out[o + 1] = green;
          out[o + 2] = blue;
        }
      }
      p = end;
    }
  }
}
