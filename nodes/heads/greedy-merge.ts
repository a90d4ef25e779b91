/**
 * Joins what the slices of one frame found (SAHI's GREEDYNMM): an object cut by a slice border
 * is seen by two slices, whole in one and cut in the other, or in two parts; both must come out
 * as one instance.
 *
 * From the highest score down, each detection not yet taken absorbs every lower-scoring one of
 * its class whose box overlaps it by more than `threshold` of the SMALLER box (intersection over
 * smaller: a part inside the whole scores 1, where IoU would be small and let both through). The
 * group becomes one instance: the best score; the best detection's box, grown across the
 * slice borders that cut it to cover the others (SAHI takes the union of all the boxes; in a
 * crowd that joins a person with a box around two people and swallows the neighbour); and the
 * union of the masks inside that box.
 *
 * One case intersection over smaller misses: an object wider than the overlap, cut by both
 * borders, so that neither slice holds it whole and its two parts share only the overlap band.
 * Two detections cut at facing edges (one box ends at its slice's inner right edge, the other
 * starts at its slice's inner left edge, or likewise top and bottom) that intersect are the same
 * object when their extents ALONG the border agree by more than `threshold` (of the smaller).
 */
import type { Instances, InstanceMask } from '../../pipeline/frame.ts';
import type { SliceRegion } from '../inference/slices.ts';

/** Edges of a box that lie on an inner edge of its slice (not on the frame's edge). */
const CUT_LEFT = 1;
const CUT_TOP = 2;
const CUT_RIGHT = 4;
const CUT_BOTTOM = 8;
/** A box within this many pixels of its slice's edge was cut by it (boxes are clipped there). */
const CUT_TOLERANCE = 4;

/** What one slice found, and where the slice was. */
export interface SliceDetections {
  readonly instances: Instances;
  readonly region: SliceRegion;
}

function cutEdges(boxes: Float32Array, i: number, region: SliceRegion, frameWidth: number, frameHeight: number): number {
  const right = region.x + region.width;
  const bottom = region.y + region.height;
  let cut = 0;
  if (region.x > 0 && boxes[i * 4]! <= region.x + CUT_TOLERANCE) cut |= CUT_LEFT;
  if (region.y > 0 && boxes[i * 4 + 1]! <= region.y + CUT_TOLERANCE) cut |= CUT_TOP;
  if (right < frameWidth && boxes[i * 4 + 2]! >= right - CUT_TOLERANCE) cut |= CUT_RIGHT;
  if (bottom < frameHeight && boxes[i * 4 + 3]! >= bottom - CUT_TOLERANCE) cut |= CUT_BOTTOM;
  return cut;
}

/** Overlap of `[a1, a2)` and `[b1, b2)` over the shorter of the two. */
function overlapOverShorter(a1: number, a2: number, b1: number, b2: number): number {
  const overlap = Math.min(a2, b2) - Math.max(a1, b1);
  const shorter = Math.min(a2 - a1, b2 - b1);
  return overlap > 0 && shorter > 0 ? overlap / shorter : 0;
}

/** Whether `a` and `b`, cut at facing slice borders, are two parts of one object. */
function partsOfOneObject(boxes: Float32Array, cuts: Uint8Array, a: number, b: number, threshold: number): boolean {
  const ca = cuts[a]!;
  const cb = cuts[b]!;
  if (ca === 0 || cb === 0) return false;
  const ax1 = boxes[a * 4]!, ay1 = boxes[a * 4 + 1]!, ax2 = boxes[a * 4 + 2]!, ay2 = boxes[a * 4 + 3]!;
  const bx1 = boxes[b * 4]!, by1 = boxes[b * 4 + 1]!, bx2 = boxes[b * 4 + 2]!, by2 = boxes[b * 4 + 3]!;
  if (Math.min(ax2, bx2) <= Math.max(ax1, bx1) || Math.min(ay2, by2) <= Math.max(ay1, by1)) return false;
  const acrossVertical = (ca & CUT_RIGHT && cb & CUT_LEFT) || (ca & CUT_LEFT && cb & CUT_RIGHT);
  if (acrossVertical && overlapOverShorter(ay1, ay2, by1, by2) > threshold) return true;
  const acrossHorizontal = (ca & CUT_BOTTOM && cb & CUT_TOP) || (ca & CUT_TOP && cb & CUT_BOTTOM);
  return Boolean(acrossHorizontal) && overlapOverShorter(ax1, ax2, bx1, bx2) > threshold;
}

/** Intersection of boxes `a` and `b` of `boxes` over the area of the smaller one. */
export function intersectionOverSmaller(boxes: Float32Array, a: number, b: number): number {
  const ax1 = boxes[a * 4]!, ay1 = boxes[a * 4 + 1]!, ax2 = boxes[a * 4 + 2]!, ay2 = boxes[a * 4 + 3]!;
  const bx1 = boxes[b * 4]!, by1 = boxes[b * 4 + 1]!, bx2 = boxes[b * 4 + 2]!, by2 = boxes[b * 4 + 3]!;
  const w = Math.min(ax2, bx2) - Math.max(ax1, bx1);
  const h = Math.min(ay2, by2) - Math.max(ay1, by1);
  if (w <= 0 || h <= 0) return 0;
  const smaller = Math.min((ax2 - ax1) * (ay2 - ay1), (bx2 - bx1) * (by2 - by1));
  return smaller > 0 ? (w * h) / smaller : 0;
}

/** One mask over the integer box `[x1, x2) x [y1, y2)`, 1 where any of `masks` is. */
function unionMask(masks: readonly InstanceMask[], x1: number, y1: number, x2: number, y2: number): InstanceMask {
  const width = Math.max(0, x2 - x1);
  const height = Math.max(0, y2 - y1);
  const data = new Uint8Array(width * height);
  for (const m of masks) {
    const top = Math.max(m.y, y1);
    const bottom = Math.min(m.y + m.height, y2);
    const left = Math.max(m.x, x1);
    const right = Math.min(m.x + m.width, x2);
    for (let y = top; y < bottom; y++) {
      const from = (y - m.y) * m.width - m.x;
      const to = (y - y1) * width - x1;
      for (let x = left; x < right; x++) if (m.data[from + x] !== 0) data[to + x] = 1;
    }
  }
  return { x: x1, y: y1, width, height, data };
}

/**
 * The instances of every slice of one `frameWidth x frameHeight` frame as one set, each object
 * once. All slices come from one model (same class set); masks are kept when every slice has them.
 */
export function mergeSliceDetections(
  slices: readonly SliceDetections[],
  frameWidth: number,
  frameHeight: number,
  threshold: number,
  maxDetections: number,
): Instances {
  const first = slices[0]?.instances;
  if (!first) throw new Error('mergeSliceDetections: no slices');
  const total = slices.reduce((n, s) => n + s.instances.count, 0);
  const withMasks = slices.every((s) => s.instances.masks !== undefined);
  const boxes = new Float32Array(total * 4);
  const scores = new Float32Array(total);
  const classIds = new Int32Array(total);
  const cuts = new Uint8Array(total);
  const masks: InstanceMask[] = [];
  let at = 0;
  for (const { instances: part, region } of slices) {
    boxes.set(part.boxes.subarray(0, part.count * 4), at * 4);
    scores.set(part.scores.subarray(0, part.count), at);
    classIds.set(part.classIds.subarray(0, part.count), at);
    for (let i = 0; i < part.count; i++) cuts[at + i] = cutEdges(boxes, at + i, region, frameWidth, frameHeight);
    if (withMasks) masks.push(...part.masks!);
    at += part.count;
  }

  const order = Array.from({ length: total }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const taken = new Uint8Array(total);
  const groups: number[][] = [];
  for (let o = 0; o < total && groups.length < maxDetections; o++) {
    const i = order[o]!;
    if (taken[i]) continue;
    taken[i] = 1;
    const group = [i];
    for (let q = o + 1; q < total; q++) {
      const j = order[q]!;
      if (taken[j] || classIds[j] !== classIds[i]) continue;
      if (intersectionOverSmaller(boxes, i, j) > threshold || partsOfOneObject(boxes, cuts, i, j, threshold)) {
        taken[j] = 1;
        group.push(j);
      }
    }
    groups.push(group);
  }

  const count = groups.length;
  const outBoxes = new Float32Array(count * 4);
  const outScores = new Float32Array(count);
  const outClasses = new Int32Array(count);
  const outMasks: InstanceMask[] = [];
  groups.forEach((group, k) => {
    const lead = group[0]!;
    let x1 = boxes[lead * 4]!, y1 = boxes[lead * 4 + 1]!, x2 = boxes[lead * 4 + 2]!, y2 = boxes[lead * 4 + 3]!;
    // The lead's box grows only across the slice borders that cut it: there the others saw what
    // its slice could not. A box the lead holds whole is the object's; a larger box it was merged
    // with (in a crowd, one box around two people) must not swallow a neighbour.
    const cut = cuts[lead]!;
    for (const j of group) {
      if (cut & CUT_LEFT) x1 = Math.min(x1, boxes[j * 4]!);
      if (cut & CUT_TOP) y1 = Math.min(y1, boxes[j * 4 + 1]!);
      if (cut & CUT_RIGHT) x2 = Math.max(x2, boxes[j * 4 + 2]!);
      if (cut & CUT_BOTTOM) y2 = Math.max(y2, boxes[j * 4 + 3]!);
    }
    outBoxes[k * 4] = x1;
    outBoxes[k * 4 + 1] = y1;
    outBoxes[k * 4 + 2] = x2;
    outBoxes[k * 4 + 3] = y2;
    outScores[k] = scores[lead]!;
    outClasses[k] = classIds[lead]!;
    if (withMasks) {
      const members = group.map((j) => masks[j]!);
      outMasks.push(members.length === 1 ? members[0]! : unionMask(members, Math.floor(x1), Math.floor(y1), Math.ceil(x2), Math.ceil(y2)));
    }
  });
  return {
    model: first.model,
    count,
    boxes: outBoxes,
    scores: outScores,
    classIds: outClasses,
    classes: first.classes,
    masks: withMasks ? outMasks : undefined,
  };
}
