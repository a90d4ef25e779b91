/**
 * Precision and recall over all images, per category, area range and max-detections, and the
 * twelve summary figures: pycocotools' `accumulate` and `summarize`.
 *
 * Per category: the images' first max-detections detections are pooled and sorted by score
 * (stable: image order, then rank within the image); precision at each rank is made
 * non-increasing from the right and read at the 101 recall points (the first rank whose recall
 * reaches the point; 0 past the highest recall). A category, area range and max-detections with
 * no counted ground truth gets -1 and is left out of every mean; a figure with nothing to average
 * is -1.
 */
import { AREA_RANGES, IOU_THRESHOLDS, MAX_DETECTIONS, RECALL_THRESHOLDS, type AreaRange } from './params.ts';
import type { ImageEvaluation } from './match-image.ts';

/** numpy's `np.spacing(1)`, added to keep precision defined when nothing was detected. */
const SPACING_OF_ONE = Number.EPSILON;

export interface Accumulated {
  /** `[t][r][k][a][m]` flattened; -1 where not defined. */
  readonly precision: Float64Array;
  /** `[t][k][a][m]` flattened; -1 where not defined. */
  readonly recall: Float64Array;
  readonly categories: number;
}

const T = IOU_THRESHOLDS.length;
const R = RECALL_THRESHOLDS.length;
const A = AREA_RANGES.length;
const M = MAX_DETECTIONS.length;

export const precisionIndex = (t: number, r: number, k: number, a: number, m: number, K: number): number =>
  (((t * R + r) * K + k) * A + a) * M + m;
export const recallIndex = (t: number, k: number, a: number, m: number, K: number): number => ((t * K + k) * A + a) * M + m;

/**
 * `evaluations(k, a)` lists the image evaluations of category k and area range a in image order,
 * leaving out images with neither ground truth nor detections of the category.
 */
export function accumulate(categories: number, evaluations: (k: number, a: number) => readonly ImageEvaluation[]): Accumulated {
  const K = categories;
  const precision = new Float64Array(T * R * K * A * M).fill(-1);
  const recall = new Float64Array(T * K * A * M).fill(-1);
  for (let k = 0; k < K; k++) {
    for (let a = 0; a < A; a++) {
      const images = evaluations(k, a);
      if (images.length === 0) continue;
      const counted = images.reduce((n, e) => n + e.counted, 0);
      if (counted === 0) continue;
      MAX_DETECTIONS.forEach((maxDet, m) => {
        // Pool each image's first maxDet detections: (image, rank) pairs, in image order.
        const pooledImage: number[] = [];
        const pooledRank: number[] = [];
        const pooledScore: number[] = [];
        images.forEach((e, i) => {
          const n = Math.min(maxDet, e.scores.length);
          for (let d = 0; d < n; d++) {
            pooledImage.push(i);
            pooledRank.push(d);
            pooledScore.push(e.scores[d]!);
          }
        });
        const order = pooledScore.map((_, j) => j).sort((x, y) => pooledScore[y]! - pooledScore[x]! || x - y);
        const nd = order.length;
        for (let t = 0; t < T; t++) {
          const rc = new Float64Array(nd);
          const pr = new Float64Array(nd);
          let tp = 0;
          let fp = 0;
          for (let j = 0; j < nd; j++) {
            const p = order[j]!;
            const e = images[pooledImage[p]!]!;
            const at = t * e.scores.length + pooledRank[p]!;
            tp += e.truePositive[at]!;
            fp += e.falsePositive[at]!;
            rc[j] = tp / counted;
            pr[j] = tp / (fp + tp + SPACING_OF_ONE);
          }
          recall[recallIndex(t, k, a, m, K)] = nd ? rc[nd - 1]! : 0;
          for (let j = nd - 1; j > 0; j--) if (pr[j]! > pr[j - 1]!) pr[j - 1] = pr[j]!;
          // searchsorted(rc, threshold, 'left'): the first rank whose recall reaches it.
          let j = 0;
          for (let r = 0; r < R; r++) {
            while (j < nd && rc[j]! < RECALL_THRESHOLDS[r]!) j++;
            if (j >= nd) break; // the rest stay 0
            precision[precisionIndex(t, r, k, a, m, K)] = pr[j]!;
          }
          for (let r = 0; r < R; r++) {
            const at = precisionIndex(t, r, k, a, m, K);
            if (precision[at] === -1) precision[at] = 0;
          }
        }
      });
    }
  }
  return { precision, recall, categories: K };
}

/** The mean of the defined values (> -1), or -1 when there is none. */
function meanOfDefined(values: Iterable<number>): number {
  let sum = 0;
  let n = 0;
  for (const v of values) {
    if (v > -1) {
      sum += v;
      n++;
    }
  }
  return n ? sum / n : -1;
}

const rangeIndex = (label: AreaRange['label']): number => AREA_RANGES.findIndex((r) => r.label === label);
const maxDetIndex = (maxDet: number): number => MAX_DETECTIONS.indexOf(maxDet as (typeof MAX_DETECTIONS)[number]);

function* precisions(acc: Accumulated, ts: readonly number[], ks: readonly number[], a: number, m: number): Generator<number> {
  for (const t of ts) for (let r = 0; r < R; r++) for (const k of ks) yield acc.precision[precisionIndex(t, r, k, a, m, acc.categories)]!;
}

function* recalls(acc: Accumulated, ks: readonly number[], a: number, m: number): Generator<number> {
  for (let t = 0; t < T; t++) for (const k of ks) yield acc.recall[recallIndex(t, k, a, m, acc.categories)]!;
}

const ALL_THRESHOLDS = IOU_THRESHOLDS.map((_, t) => t);
const thresholdIndex = (iou: number): number => IOU_THRESHOLDS.indexOf(iou);

/** Mean precision over IoU thresholds (all, or one), recall points and the categories `ks`. */
export function averagePrecision(acc: Accumulated, ks: readonly number[], options: { iou?: number; area?: AreaRange['label']; maxDet?: number } = {}): number {
  const ts = options.iou === undefined ? ALL_THRESHOLDS : [thresholdIndex(options.iou)];
  return meanOfDefined(precisions(acc, ts, ks, rangeIndex(options.area ?? 'all'), maxDetIndex(options.maxDet ?? 100)));
}

export function averageRecall(acc: Accumulated, ks: readonly number[], options: { area?: AreaRange['label']; maxDet?: number } = {}): number {
  return meanOfDefined(recalls(acc, ks, rangeIndex(options.area ?? 'all'), maxDetIndex(options.maxDet ?? 100)));
}

/** pycocotools' `stats`, under the names the command prints. */
export interface CocoSummary {
  readonly AP: number;
  readonly AP50: number;
  readonly AP75: number;
  readonly APs: number;
  readonly APm: number;
  readonly APl: number;
  readonly AR1: number;
  readonly AR10: number;
  readonly AR100: number;
  readonly ARs: number;
  readonly ARm: number;
  readonly ARl: number;
}

export function summarize(acc: Accumulated): CocoSummary {
  const ks = Array.from({ length: acc.categories }, (_, k) => k);
  return {
    AP: averagePrecision(acc, ks),
    AP50: averagePrecision(acc, ks, { iou: 0.5 }),
    AP75: averagePrecision(acc, ks, { iou: 0.75 }),
    APs: averagePrecision(acc, ks, { area: 'small' }),
    APm: averagePrecision(acc, ks, { area: 'medium' }),
    APl: averagePrecision(acc, ks, { area: 'large' }),
    AR1: averageRecall(acc, ks, { maxDet: 1 }),
    AR10: averageRecall(acc, ks, { maxDet: 10 }),
    AR100: averageRecall(acc, ks),
    ARs: averageRecall(acc, ks, { area: 'small' }),
    ARm: averageRecall(acc, ks, { area: 'medium' }),
    ARl: averageRecall(acc, ks, { area: 'large' }),
  };
}
