/**
 * One image and one category: the IoUs of its detections with its ground truth, and the greedy
 * matching at each IoU threshold, as pycocotools' `computeIoU` and `evaluateImg` do it.
 *
 * - Detections are taken by score, highest first, ties in file order (a stable sort), at most
 *   the last max-detections (100).
 * - Ground truth outside the area range, and crowd regions, are "ignored": ground truth is
 *   sorted so that they come last (stably), and a detection takes the not-ignored object of
 *   highest IoU ≥ the threshold, then an ignored one only if none. Among equal IoUs the later
 *   object wins, as pycocotools' `<` comparison lets it.
 * - A crowd region can be matched by any number of detections; its IoU is the intersection
 *   over the detection's own area.
 * - A detection matched to an ignored object is ignored, and so is an unmatched detection
 *   outside the area range; every other detection is a true or false positive.
 */
import { rleArea, rleBbox, rleOverlap } from '../../lib/formats/coco-rle.ts';
import type { XywhBox } from '../../lib/geometry/box.ts';
import { IOU_THRESHOLDS, MAX_DETECTIONS, type AreaRange, type IouType } from './params.ts';
import type { Cell, Detection } from './prepare.ts';

/** Box IoU as the mask API's `bbIou`: for a crowd region, the intersection over the detection's area. */
export function xywhIou(d: XywhBox, g: XywhBox, crowd: boolean): number {
  const w = Math.min(d[2] + d[0], g[2] + g[0]) - Math.max(d[0], g[0]);
  if (w <= 0) return 0;
  const h = Math.min(d[3] + d[1], g[3] + g[1]) - Math.max(d[1], g[1]);
  if (h <= 0) return 0;
  const intersection = w * h;
  const detectionArea = d[2] * d[3];
  return intersection / (crowd ? detectionArea : detectionArea + g[2] * g[3] - intersection);
}

/** The detections pycocotools evaluates: by score, highest first, stable, at most 100. */
export function rankedDetections(detections: readonly Detection[]): Detection[] {
  const order = detections.map((_, i) => i).sort((a, b) => detections[b]!.score - detections[a]!.score || a - b);
  return order.slice(0, MAX_DETECTIONS[MAX_DETECTIONS.length - 1]).map((i) => detections[i]!);
}

/**
 * IoU of ranked detection d and ground-truth object g at `[d * G + g]`. Masks of different sizes
 * overlap by -1 (never a match), as the mask API returns.
 */
export function cellIous(ranked: readonly Detection[], cell: Cell, iouType: IouType): Float64Array {
  const gts = cell.groundTruth;
  const G = gts.length;
  const ious = new Float64Array(ranked.length * G);
  if (iouType === 'bbox') {
    ranked.forEach((d, di) => gts.forEach((g, gi) => (ious[di * G + gi] = xywhIou(d.box, g.box, g.crowd))));
    return ious;
  }
  // Masks overlap only where their boxes do; the mask API checks the boxes of the runs first.
  const gtBoxes = gts.map((g) => rleBbox(g.mask!));
  ranked.forEach((d, di) => {
    const dm = d.mask!;
    const db = rleBbox(dm);
    gts.forEach((g, gi) => {
      if (xywhIou(db, gtBoxes[gi]!, g.crowd) <= 0) return;
      const gm = g.mask!;
      if (dm.height !== gm.height || dm.width !== gm.width) {
        ious[di * G + gi] = -1;
        return;
      }
      const { intersection, union } = rleOverlap(dm, gm);
      if (intersection === 0) return;
      ious[di * G + gi] = intersection / (g.crowd ? rleArea(dm) : union);
    });
  });
  return ious;
}

/** What `evaluateImg` hands to `accumulate` for one image, category and area range. */
export interface ImageEvaluation {
  /** Scores of the ranked detections. */
  readonly scores: Float64Array;
  /** `[t * D + d]`: detection d is a true positive / false positive at IoU threshold t. */
  readonly truePositive: Uint8Array;
  readonly falsePositive: Uint8Array;
  /** Ground-truth objects not ignored. */
  readonly counted: number;
}

/**
 * Matches the ranked detections of a cell to its ground truth within an area range, at every IoU
 * threshold. `ious` is {@link cellIous} of the same ranked detections.
 */
export function evaluateImage(ranked: readonly Detection[], cell: Cell, ious: Float64Array, range: AreaRange): ImageEvaluation {
  const gts = cell.groundTruth;
  const G = gts.length;
  const D = ranked.length;
  const T = IOU_THRESHOLDS.length;
  const ignoredGt = gts.map((g) => g.crowd || g.area < range.min || g.area > range.max);
  // Not-ignored objects first, each group in file order.
  const order = [...gts.keys()].filter((g) => !ignoredGt[g]).concat([...gts.keys()].filter((g) => ignoredGt[g]));
  const counted = ignoredGt.filter((ignored) => !ignored).length;
  const truePositive = new Uint8Array(T * D);
  const falsePositive = new Uint8Array(T * D);
  const taken = new Uint8Array(G);
  for (let t = 0; t < T; t++) {
    taken.fill(0);
    for (let d = 0; d < D; d++) {
      let best = Math.min(IOU_THRESHOLDS[t]!, 1 - 1e-10);
      let m = -1;
      for (let k = 0; k < G; k++) {
        const g = order[k]!;
        if (taken[g] && !gts[g]!.crowd) continue;
        // Once matched to a counted object, stop at the first ignored one.
        if (m > -1 && !ignoredGt[m] && ignoredGt[g]) break;
        const iou = ious[d * G + g]!;
        if (iou < best) continue;
        best = iou;
        m = g;
      }
      let ignored: boolean;
      let matched: boolean;
      if (m === -1) {
        matched = false;
        const area = ranked[d]!.area;
        ignored = area < range.min || area > range.max;
      } else {
        taken[m] = 1;
        ignored = ignoredGt[m]!;
        // pycocotools records the match as the object's id, and reads id 0 as no match.
        matched = gts[m]!.id !== 0;
        if (!matched) ignored ||= ranked[d]!.area < range.min || ranked[d]!.area > range.max;
      }
      if (ignored) continue;
      if (matched) truePositive[t * D + d] = 1;
      else falsePositive[t * D + d] = 1;
    }
  }
  return { scores: Float64Array.from(ranked, (d) => d.score), truePositive, falsePositive, counted };
}
