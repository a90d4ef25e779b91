/**
 * Segmentation and Tracking Quality, STQ = √(AQ · SQ), as deeplab2 defines it
 * (`evaluation/numpy/segmentation_and_tracking_quality.py`; Weber et al., "STEP", 2021),
 * computed from the same pair counts as PQ.
 *
 * Inputs are COCO-style: a segment id is the track id (it names one object in every frame of
 * its sequence) and its category comes from the JSON. deeplab2's "panoptic label" is the pair
 * (category, id) here; its "crowd" (a thing pixel with instance 0) is a ground-truth segment with
 * `iscrowd` of a thing category; its ignore label is void (id 0, or an id the JSON does not list).
 *
 * - AQ, per sequence: for each ground-truth thing tube g (crowd left out),
 *   (1/|g|) Σ_p TPA(p,g) · TPA(p,g) / (TPA + FPA + FNA), summed over the predicted thing tubes p
 *   it overlaps, where TPA is the overlap and |p| counts p's pixels off crowd regions (void
 *   included). Matching is class-agnostic. AQ = Σ over sequences / number of gt tubes overall.
 * - SQ is deeplab2's mean IoU over one semantic confusion matrix of all frames: void
 *   ground-truth pixels are left out; a *prediction* of void on a labelled pixel is a miss for
 *   that class, and, as in deeplab2, makes the void column a class of IoU 0 in the mean.
 *   Classes with an empty union are left out.
 */
import type { Category } from './coco-panoptic-json.ts';
import type { FramePair } from './frame-pair.ts';

interface SequenceStats {
  frames: number;
  /** (categories + 1)², rows gt, columns pred; the last index is void. */
  readonly confusion: Float64Array;
  readonly gtTubes: Map<number, number>;
  readonly predTubes: Map<number, number>;
  /** gt tube → pred tube → overlapping pixels. */
  readonly overlaps: Map<number, Map<number, number>>;
}

export interface StqSequenceScores {
  readonly sequence: string;
  readonly frames: number;
  readonly stq: number;
  readonly aq: number;
  readonly iou: number;
}

export interface StqResult {
  readonly stq: number;
  readonly aq: number;
  /** deeplab2's "IoU": the segmentation quality term. */
  readonly iou: number;
  readonly perSequence: readonly StqSequenceScores[];
}

/** deeplab2 divides by max(x, 1e-15) so that an empty sequence scores 0, not NaN. */
const EPSILON = 1e-15;

export class StqAccumulator {
  private readonly index = new Map<number, number>();
  private readonly isThing: boolean[] = [];
  private readonly size: number;
  private readonly sequences = new Map<string, SequenceStats>();

  constructor(categories: ReadonlyMap<number, Category>) {
    for (const category of categories.values()) {
      this.index.set(category.id, this.index.size);
      this.isThing.push(category.isThing);
    }
    this.size = this.index.size + 1;
  }

  /** A tube: one id of one category (dense category index · 2^24 + id). */
  private tube(categoryIndex: number, id: number): number {
    return categoryIndex * 2 ** 24 + id;
  }

  addFrame(sequence: string, frame: FramePair): void {
    let stats = this.sequences.get(sequence);
    if (!stats) {
      stats = { frames: 0, confusion: new Float64Array(this.size * this.size), gtTubes: new Map(), predTubes: new Map(), overlaps: new Map() };
      this.sequences.set(sequence, stats);
    }
    stats.frames++;
    const voidIndex = this.size - 1;
    const { pairs } = frame;
    for (let i = 0; i < pairs.length; i++) {
      const count = pairs.counts[i];
      const gtId = pairs.gtIds[i];
      const predId = pairs.predIds[i];
      const g = frame.gt.get(gtId);
      const p = frame.pred.get(predId);
      const gtClass = g ? this.index.get(g.categoryId)! : voidIndex;
      const predClass = p ? this.index.get(p.categoryId)! : voidIndex;
      // Semantic term: void ground truth is not scored at all.
      if (gtClass !== voidIndex) stats.confusion[gtClass * this.size + predClass] += count;

      // Association term: thing pixels only, crowd regions left out on both sides.
      const onCrowd = g !== undefined && g.isCrowd && this.isThing[gtClass];
      if (onCrowd) continue;
      const gtTube = g && this.isThing[gtClass] ? this.tube(gtClass, gtId) : undefined;
      const predTube = p && this.isThing[predClass] ? this.tube(predClass, predId) : undefined;
      if (gtTube !== undefined) stats.gtTubes.set(gtTube, (stats.gtTubes.get(gtTube) ?? 0) + count);
      if (predTube !== undefined) stats.predTubes.set(predTube, (stats.predTubes.get(predTube) ?? 0) + count);
      if (gtTube !== undefined && predTube !== undefined) {
        let row = stats.overlaps.get(gtTube);
        if (!row) stats.overlaps.set(gtTube, (row = new Map()));
        row.set(predTube, (row.get(predTube) ?? 0) + count);
      }
    }
  }

  result(): StqResult {
    let aqSum = 0;
    let tubes = 0;
    const total = new Float64Array(this.size * this.size);
    const perSequence: StqSequenceScores[] = [];
    for (const [sequence, stats] of this.sequences) {
      let outer = 0;
      for (const [gtTube, gtSize] of stats.gtTubes) {
        let inner = 0;
        for (const [predTube, tpa] of stats.overlaps.get(gtTube) ?? []) {
          const predSize = stats.predTubes.get(predTube)!;
          // TPA + FPA + FNA = |p| + |g| − TPA.
          inner += (tpa * tpa) / (predSize + gtSize - tpa);
        }
        outer += inner / gtSize;
      }
      aqSum += outer;
      tubes += stats.gtTubes.size;
      for (let i = 0; i < total.length; i++) total[i] += stats.confusion[i];
      const aq = outer / Math.max(stats.gtTubes.size, EPSILON);
      const iou = meanIou(stats.confusion, this.size);
      perSequence.push({ sequence, frames: stats.frames, stq: Math.sqrt(aq * iou), aq, iou });
    }
    const aq = aqSum / Math.max(tubes, EPSILON);
    const iou = meanIou(total, this.size);
    return { stq: Math.sqrt(aq * iou), aq, iou, perSequence };
  }
}

/** deeplab2's mean IoU: over every index, void column included, whose union is not empty. */
function meanIou(confusion: Float64Array, size: number): number {
  let sum = 0;
  let classes = 0;
  for (let c = 0; c < size; c++) {
    let row = 0;
    let column = 0;
    for (let k = 0; k < size; k++) {
      row += confusion[c * size + k];
      column += confusion[k * size + c];
    }
    const tp = confusion[c * size + c];
    const union = row + column - tp;
    if (union > 0) {
      sum += tp / union;
      classes++;
    }
  }
  // deeplab2 divides by the count as is; 0/0 gives NaN there. An empty evaluation scores 0 here.
  return classes ? sum / classes : 0;
}
