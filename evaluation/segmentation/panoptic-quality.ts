/**
 * Panoptic quality (Kirillov et al.), with the matching and averaging rules of the COCO
 * panoptic API (panopticapi `evaluation.py`), reimplemented on pair counts:
 *
 * - A ground-truth and a predicted segment match when they have the same category and
 *   IoU > 0.5, where the union leaves out the prediction's pixels that are void (id 0) in the
 *   ground truth: union = |pred| + |gt| − |pred ∩ gt| − |pred ∩ void|. IoU > 0.5 makes the
 *   match unique, so the order pairs are visited in does not matter.
 * - Crowd ground-truth segments (`iscrowd`) are never matched and never false negatives.
 * - An unmatched prediction is a false positive unless more than half of its pixels lie on
 *   void or on the crowd region of its own category. Like panopticapi, only one crowd segment
 *   per category and image is considered: the last one listed.
 * - Ground-truth areas are the annotation's `area` (as panopticapi reads them); prediction
 *   areas are counted in the PNG.
 * - Per category: PQ = ΣIoU / (TP + ½FP + ½FN), SQ = ΣIoU / TP (0 without TP),
 *   RQ = TP / (TP + ½FP + ½FN). All / Things / Stuff are plain means over the categories with
 *   TP + FP + FN > 0.
 *
 * The same accumulator serves video PQ: there a "segment" is a tube of one id across a window.
 */
import type { Category } from './coco-panoptic-json.ts';
import type { PairCounts } from './pair-counts.ts';

/** Segment id 0 is void in COCO panoptic PNGs. */
export const VOID_ID = 0;

export interface GroundTruthSegment {
  readonly categoryId: number;
  readonly isCrowd: boolean;
  readonly area: number;
}

export interface PredictedSegment {
  readonly categoryId: number;
  readonly area: number;
}

interface CategoryStats {
  iouSum: number;
  tp: number;
  fp: number;
  fn: number;
}

export interface PqSummary {
  readonly pq: number | null;
  readonly sq: number | null;
  readonly rq: number | null;
  /** Categories averaged: those with TP + FP + FN > 0. */
  readonly n: number;
}

export interface PqClassScores {
  readonly categoryId: number;
  readonly name: string;
  readonly isThing: boolean;
  /** `null` when the category has no TP, FP or FN (panopticapi writes 0 there, and leaves it out of the means). */
  readonly pq: number | null;
  readonly sq: number | null;
  readonly rq: number | null;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly iouSum: number;
}

export interface PqResult {
  readonly All: PqSummary;
  readonly Things: PqSummary;
  readonly Stuff: PqSummary;
  readonly perClass: readonly PqClassScores[];
}

export class PanopticQualityAccumulator {
  private readonly stats = new Map<number, CategoryStats>();

  private of(categoryId: number): CategoryStats {
    let stats = this.stats.get(categoryId);
    if (!stats) {
      stats = { iouSum: 0, tp: 0, fp: 0, fn: 0 };
      this.stats.set(categoryId, stats);
    }
    return stats;
  }

  /**
   * Scores one image (or one window of frames). `gt` and `pred` list the annotated segments
   * by id, in annotation order; ids in `pairs` that they lack are ignored (except void, 0).
   */
  add(
    pairs: PairCounts,
    gt: ReadonlyMap<number, GroundTruthSegment>,
    pred: ReadonlyMap<number, PredictedSegment>,
  ): void {
    // Pixels of each prediction that lie on void.
    const onVoid = new Map<number, number>();
    for (let i = 0; i < pairs.length; i++) {
      if (pairs.gtIds[i] === VOID_ID) onVoid.set(pairs.predIds[i], pairs.counts[i]);
    }

    const gtMatched = new Set<number>();
    const predMatched = new Set<number>();
    for (let i = 0; i < pairs.length; i++) {
      const g = gt.get(pairs.gtIds[i]);
      const p = pred.get(pairs.predIds[i]);
      if (!g || !p || g.isCrowd || g.categoryId !== p.categoryId) continue;
      const intersection = pairs.counts[i];
      const union = p.area + g.area - intersection - (onVoid.get(pairs.predIds[i]) ?? 0);
      const iou = intersection / union;
      if (iou > 0.5) {
        const stats = this.of(g.categoryId);
        stats.tp++;
        stats.iouSum += iou;
        gtMatched.add(pairs.gtIds[i]);
        predMatched.add(pairs.predIds[i]);
      }
    }

    // The crowd region per category: the last crowd segment listed, as panopticapi keeps it.
    const crowdOf = new Map<number, number>();
    for (const [id, segment] of gt) {
      if (gtMatched.has(id)) continue;
      if (segment.isCrowd) crowdOf.set(segment.categoryId, id);
      else this.of(segment.categoryId).fn++;
    }

    // Pixels of each unmatched prediction on the crowd region of its own category.
    const onCrowd = new Map<number, number>();
    if (crowdOf.size) {
      for (let i = 0; i < pairs.length; i++) {
        const predId = pairs.predIds[i];
        const p = pred.get(predId);
        if (p && crowdOf.get(p.categoryId) === pairs.gtIds[i]) onCrowd.set(predId, pairs.counts[i]);
      }
    }
    for (const [id, segment] of pred) {
      if (predMatched.has(id)) continue;
      const ignoredPixels = (onVoid.get(id) ?? 0) + (onCrowd.get(id) ?? 0);
      if (ignoredPixels / segment.area > 0.5) continue;
      this.of(segment.categoryId).fp++;
    }
  }

  /** PQ, SQ, RQ per category and averaged, over the ground truth's categories. */
  result(categories: ReadonlyMap<number, Category>): PqResult {
    const perClass: PqClassScores[] = [];
    for (const category of categories.values()) {
      const { iouSum, tp, fp, fn } = this.stats.get(category.id) ?? { iouSum: 0, tp: 0, fp: 0, fn: 0 };
      const scored = tp + fp + fn > 0;
      const denominator = tp + 0.5 * fp + 0.5 * fn;
      perClass.push({
        categoryId: category.id,
        name: category.name,
        isThing: category.isThing,
        pq: scored ? iouSum / denominator : null,
        sq: scored ? (tp ? iouSum / tp : 0) : null,
        rq: scored ? tp / denominator : null,
        tp,
        fp,
        fn,
        iouSum,
      });
    }
    const average = (keep: (c: PqClassScores) => boolean): PqSummary => {
      const scored = perClass.filter((c) => keep(c) && c.pq !== null);
      const n = scored.length;
      const meanOf = (key: 'pq' | 'sq' | 'rq') => (n ? scored.reduce((sum, c) => sum + (c[key] ?? 0), 0) / n : null);
      return { pq: meanOf('pq'), sq: meanOf('sq'), rq: meanOf('rq'), n };
    };
    return {
      All: average(() => true),
      Things: average((c) => c.isThing),
      Stuff: average((c) => !c.isThing),
      perClass,
    };
  }
}
