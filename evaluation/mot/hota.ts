/**
 * HOTA (Luiten et al. 2021) as TrackEval computes it: HOTA, DetA, AssA, LocA and their recall and
 * precision parts, each the mean over the localisation thresholds alpha = 0.05, 0.10 … 0.95.
 *
 * 1. Over the whole sequence, each (object, prediction) pair gets a global alignment score: how
 *    much the two tracks overlap, frame by frame, normalised like an IoU between tracks.
 * 2. Per frame, one assignment maximises alignment × IoU; at each alpha, the assigned pairs with
 *    IoU ≥ alpha are the true positives (so detection and association are judged together).
 * 3. DetA = TP / (TP + FN + FP); AssA averages, over the true positives, the track-level IoU
 *    |TPA| / (|TPA| + |FNA| + |FPA|) of the pair each belongs to; HOTA = √(DetA · AssA).
 *
 * HOTA does not use the evaluation's IoU threshold: it sweeps all of them.
 */
import { minCostAssignment } from '../../lib/assignment/min-cost-assignment.ts';
import type { PreparedSequence } from './preprocess.ts';

/** TrackEval's `np.arange(0.05, 0.99, 0.05)`, to the last bit. */
export const HOTA_ALPHAS: Float64Array = Float64Array.from({ length: 19 }, (_, i) => 0.05 + i * 0.05);
const ALPHAS = HOTA_ALPHAS.length;
const EPSILON = Number.EPSILON;

/**
 * Per-alpha sums HOTA derives from; summing them over sequences combines sequences the way
 * TrackEval does (AssA and LocA weighted by each sequence's true positives).
 */
export interface HotaCounts {
  readonly TP: Float64Array;
  readonly FN: Float64Array;
  readonly FP: Float64Array;
  /** Σ over true positives of their pair's association IoU, recall and precision. */
  readonly assocSum: Float64Array;
  readonly assocRecallSum: Float64Array;
  readonly assocPrecisionSum: Float64Array;
  /** Σ over true positives of their IoU. */
  readonly locSum: Float64Array;
}

export interface HotaMetrics {
  readonly HOTA: number;
  readonly DetA: number;
  readonly AssA: number;
  readonly LocA: number;
  readonly DetRe: number;
  readonly DetPr: number;
  readonly AssRe: number;
  readonly AssPr: number;
}

function emptyCounts(): HotaCounts {
  const zeros = (): Float64Array => new Float64Array(ALPHAS);
  return {
    TP: zeros(), FN: zeros(), FP: zeros(),
    assocSum: zeros(), assocRecallSum: zeros(), assocPrecisionSum: zeros(), locSum: zeros(),
  };
}

export function hotaCounts(sequence: PreparedSequence): HotaCounts {
  const { numPredIds, frames } = sequence;
  const gtDets = new Int32Array(sequence.numGtIds);
  const predDets = new Int32Array(numPredIds);
  const pairKey = (g: number, p: number): number => g * numPredIds + p;

  // 1. Global alignment: per pair, Σ over frames of IoU normalised by everything else each box
  //    overlaps in that frame, then divided like an IoU of track lengths.
  const potential = new Map<number, number>();
  for (const { gtIds, predIds, iou } of frames) {
    const nG = gtIds.length;
    const nP = predIds.length;
    const rowSum = new Float64Array(nG);
    const colSum = new Float64Array(nP);
    for (let g = 0; g < nG; g++) {
      for (let p = 0; p < nP; p++) {
        rowSum[g] += iou[g * nP + p]!;
        colSum[p] += iou[g * nP + p]!;
      }
    }
    for (let g = 0; g < nG; g++) {
      for (let p = 0; p < nP; p++) {
        const s = iou[g * nP + p]!;
        const denominator = rowSum[g]! + colSum[p]! - s;
        if (s === 0 || !(denominator > EPSILON)) continue;
        const key = pairKey(gtIds[g]!, predIds[p]!);
        potential.set(key, (potential.get(key) ?? 0) + s / denominator);
      }
    }
    for (let g = 0; g < nG; g++) gtDets[gtIds[g]!]++;
    for (let p = 0; p < nP; p++) predDets[predIds[p]!]++;
  }
  const alignment = (g: number, p: number): number => {
    const overlap = potential.get(pairKey(g, p));
    return overlap === undefined ? 0 : overlap / (gtDets[g]! + predDets[p]! - overlap);
  };

  // 2. Per frame, the assignment maximising alignment × IoU, thresholded at each alpha.
  const counts = emptyCounts();
  const pairMatches = new Map<number, Int32Array>(); // per pair, true positives at each alpha
  for (const { gtIds, predIds, iou } of frames) {
    const nG = gtIds.length;
    const nP = predIds.length;
    const cost = new Float64Array(nG * nP);
    for (let g = 0; g < nG; g++) {
      for (let p = 0; p < nP; p++) {
        const s = iou[g * nP + p]!;
        cost[g * nP + p] = s === 0 ? 0 : -alignment(gtIds[g]!, predIds[p]!) * s;
      }
    }
    const assigned = minCostAssignment(cost, nG, nP);
    const frameTP = new Int32Array(ALPHAS);
    for (let g = 0; g < nG; g++) {
      const p = assigned[g]!;
      if (p < 0) continue;
      const s = iou[g * nP + p]!;
      const key = pairKey(gtIds[g]!, predIds[p]!);
      for (let a = 0; a < ALPHAS; a++) {
        if (!(s >= HOTA_ALPHAS[a]! - EPSILON)) continue;
        frameTP[a]++;
        counts.locSum[a] += s;
        let matches = pairMatches.get(key);
        if (!matches) pairMatches.set(key, (matches = new Int32Array(ALPHAS)));
        matches[a]++;
      }
    }
    for (let a = 0; a < ALPHAS; a++) {
      counts.TP[a] += frameTP[a]!;
      counts.FN[a] += nG - frameTP[a]!;
      counts.FP[a] += nP - frameTP[a]!;
    }
  }

  // 3. Association: each true positive scores its pair's track-level IoU, recall and precision.
  for (const [key, matches] of pairMatches) {
    const g = Math.floor(key / numPredIds);
    const p = key % numPredIds;
    for (let a = 0; a < ALPHAS; a++) {
      const m = matches[a]!;
      if (m === 0) continue;
      counts.assocSum[a] += (m * m) / Math.max(1, gtDets[g]! + predDets[p]! - m);
      counts.assocRecallSum[a] += (m * m) / Math.max(1, gtDets[g]!);
      counts.assocPrecisionSum[a] += (m * m) / Math.max(1, predDets[p]!);
    }
  }
  return counts;
}

export function sumHotaCounts(parts: readonly HotaCounts[]): HotaCounts {
  const total = emptyCounts();
  for (const part of parts) {
    for (const key of Object.keys(total) as (keyof HotaCounts)[]) {
      for (let a = 0; a < ALPHAS; a++) total[key][a] += part[key][a]!;
    }
  }
  return total;
}

const mean = (values: Float64Array): number => values.reduce((sum, v) => sum + v, 0) / values.length;

/** Per-alpha scores from the sums (zero denominators count as 1, as TrackEval), then their means. */
export function hotaMetrics(counts: HotaCounts): HotaMetrics {
  const per = (f: (a: number) => number): Float64Array => Float64Array.from({ length: ALPHAS }, (_, a) => f(a));
  const { TP, FN, FP } = counts;
  const detA = per((a) => TP[a]! / Math.max(1, TP[a]! + FN[a]! + FP[a]!));
  const assA = per((a) => counts.assocSum[a]! / Math.max(1, TP[a]!));
  return {
    HOTA: mean(per((a) => Math.sqrt(detA[a]! * assA[a]!))),
    DetA: mean(detA),
    AssA: mean(assA),
    LocA: mean(per((a) => Math.max(1e-10, counts.locSum[a]!) / Math.max(1e-10, TP[a]!))),
    DetRe: mean(per((a) => TP[a]! / Math.max(1, TP[a]! + FN[a]!))),
    DetPr: mean(per((a) => TP[a]! / Math.max(1, TP[a]! + FP[a]!))),
    AssRe: mean(per((a) => counts.assocRecallSum[a]! / Math.max(1, TP[a]!))),
    AssPr: mean(per((a) => counts.assocPrecisionSum[a]! / Math.max(1, TP[a]!))),
  };
}
