/**
 * Identity metrics (Ristani et al. 2016): IDF1, IDP, IDR.
 *
 * Each ground-truth track is matched to at most one predicted track, once for the whole sequence,
 * so as to maximise the number of frames where matched tracks overlap (IoU ≥ threshold): those
 * frames are the identity true positives (IDTP). Every other ground-truth box is an IDFN, every
 * other predicted box an IDFP. py-motmetrics and TrackEval both phrase this as a min-cost
 * assignment on an (objects + hypotheses)² matrix of IDFN + IDFP; its optimum is the same as the
 * maximum-weight matching of co-occurrence counts solved here, which is much smaller.
 */
import { minCostAssignment } from '../../lib/assignment/min-cost-assignment.ts';
import { overlapMatches, type PreparedSequence } from './preprocess.ts';

export interface IdentityCounts {
  readonly IDTP: number;
  readonly IDFP: number;
  readonly IDFN: number;
}

export interface IdentityMetrics extends IdentityCounts {
  readonly IDF1: number;
  readonly IDP: number;
  readonly IDR: number;
}

export function identityCounts(sequence: PreparedSequence, iouThreshold: number): IdentityCounts {
  const { numPredIds, numGtDets, numPredDets } = sequence;
  // Frames in which ground truth g and prediction p overlap enough, keyed g * numPredIds + p.
  const overlapFrames = new Map<number, number>();
  for (const { gtIds, predIds, iou } of sequence.frames) {
    const nP = predIds.length;
    for (let g = 0; g < gtIds.length; g++) {
      for (let p = 0; p < nP; p++) {
        if (!overlapMatches(iou[g * nP + p]!, iouThreshold)) continue;
        const key = gtIds[g]! * numPredIds + predIds[p]!;
        overlapFrames.set(key, (overlapFrames.get(key) ?? 0) + 1);
      }
    }
  }

  // Only tracks that overlap something can add to IDTP: solve on those alone.
  const rowOf = new Map<number, number>();
  const colOf = new Map<number, number>();
  for (const key of overlapFrames.keys()) {
    const g = Math.floor(key / numPredIds);
    const p = key % numPredIds;
    if (!rowOf.has(g)) rowOf.set(g, rowOf.size);
    if (!colOf.has(p)) colOf.set(p, colOf.size);
  }
  const rows = rowOf.size;
  const cols = colOf.size;
  const cost = new Float64Array(rows * cols);
  for (const [key, frames] of overlapFrames) {
    cost[rowOf.get(Math.floor(key / numPredIds))! * cols + colOf.get(key % numPredIds)!] = -frames;
  }
  const assigned = minCostAssignment(cost, rows, cols);
  let IDTP = 0;
  for (let r = 0; r < rows; r++) if (assigned[r]! >= 0) IDTP -= cost[r * cols + assigned[r]!]!;

  return { IDTP, IDFN: numGtDets - IDTP, IDFP: numPredDets - IDTP };
}

export function sumIdentityCounts(parts: readonly IdentityCounts[]): IdentityCounts {
  const sum = (key: keyof IdentityCounts): number => parts.reduce((total, part) => total + part[key], 0);
  return { IDTP: sum('IDTP'), IDFP: sum('IDFP'), IDFN: sum('IDFN') };
}

/** The ratios, a zero denominator counting as 1 as in TrackEval. */
export function identityMetrics(counts: IdentityCounts): IdentityMetrics {
  const { IDTP, IDFP, IDFN } = counts;
  return {
    ...counts,
    IDF1: IDTP / Math.max(1, IDTP + 0.5 * IDFP + 0.5 * IDFN),
    IDP: IDTP / Math.max(1, IDTP + IDFP),
    IDR: IDTP / Math.max(1, IDTP + IDFN),
  };
}
