/**
 * The one box convention of Panoptes: `[x1, y1, x2, y2]` in frame pixels, corners, `x2 > x1`
 * for a box with area. Heads, fusion, tracker, analytics and render all use it; `[x, y, width,
 * height]` exists only at the edges whose formats demand it (MOTChallenge files, COCO JSON, and
 * the documented events and viewer records), through {@link toXywh} and {@link fromXywh}.
 *
 * A segment's box bounds its pixels with the far edges exclusive: a segment owning pixel
 * columns 3..7 has `x1 = 3, x2 = 8`, so `x2 - x1` is its width in pixels.
 */
export type Box = readonly [x1: number, y1: number, x2: number, y2: number];

/** `[x, y, width, height]`: only for the formats named above. */
export type XywhBox = readonly [x: number, y: number, width: number, height: number];

/** Numbers below this are rounding noise in IoU comparisons (numpy's float epsilon, as TrackEval allows). */
export const IOU_EPSILON = Number.EPSILON;

/**
 * Intersection over union of the box at `a[aAt..aAt+4]` and the one at `b[bAt..bAt+4]`. Offsets
 * let struct-of-arrays holders (a `Float32Array` of many boxes) pass a box without a copy. A
 * box with negative extent counts as empty; two empty boxes overlap by 0.
 */
export function boxIou(a: ArrayLike<number>, b: ArrayLike<number>, aAt = 0, bAt = 0): number {
  const ax1 = a[aAt]!, ay1 = a[aAt + 1]!, ax2 = a[aAt + 2]!, ay2 = a[aAt + 3]!;
  const bx1 = b[bAt]!, by1 = b[bAt + 1]!, bx2 = b[bAt + 2]!, by2 = b[bAt + 3]!;
  const w = Math.min(ax2, bx2) - Math.max(ax1, bx1);
  const h = Math.min(ay2, by2) - Math.max(ay1, by1);
  if (w <= 0 || h <= 0) return 0;
  const intersection = w * h;
  const union = Math.max(ax2 - ax1, 0) * Math.max(ay2 - ay1, 0) + Math.max(bx2 - bx1, 0) * Math.max(by2 - by1, 0) - intersection;
  return union > IOU_EPSILON ? intersection / union : 0;
}

export function boxWidth(box: Box): number {
  return box[2] - box[0];
}

export function boxHeight(box: Box): number {
  return box[3] - box[1];
}

export function boxCenter(box: Box): readonly [number, number] {
  return [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2];
}

/** Where the box meets the ground, seen from a raised camera. */
export function boxBottomCenter(box: Box): readonly [number, number] {
  return [(box[0] + box[2]) / 2, box[3]];
}

export function toXywh(box: Box): XywhBox {
  return [box[0], box[1], box[2] - box[0], box[3] - box[1]];
}

export function fromXywh(x: number, y: number, width: number, height: number): Box {
  return [x, y, x + width, y + height];
}
