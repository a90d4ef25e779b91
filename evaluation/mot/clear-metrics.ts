/**
 * CLEAR MOT metrics (Bernardin & Stiefelhagen 2008) as py-motmetrics computes them: MOTA, MOTP,
 * FP, FN, IDSW, MT/PT/ML, Frag, Recall, Precision.
 *
 * Per frame, in order:
 * 1. An object matched in the previous frame keeps its hypothesis if that hypothesis is still
 *    there and still overlaps it enough (IoU ≥ threshold), so a tracker is not charged a switch
 *    because another hypothesis fits slightly better.
 * 2. The remaining objects and hypotheses get a minimum-cost assignment on distance 1 - IoU,
 *    pairs under the threshold forbidden. A match whose hypothesis differs from the one the object
 *    was last matched to, any number of frames ago, is an identity switch.
 * 3. Unmatched objects are misses (FN), unmatched hypotheses false positives (FP).
 *
 * Per object, over the frames it is present: tracked ≥ 80% is mostly tracked (MT), < 20% mostly
 * lost (ML), partially tracked (PT) between; each return to tracked after a miss is a fragmentation.
 *
 * MOTP is given both ways: `MOTP` as TrackEval reports it (mean IoU of matched pairs, higher is
 * better) and `MOTPDistance` as py-motmetrics does (mean 1 - IoU, lower is better).
 */
import { FORBIDDEN, minCostAssignment } from '../../lib/assignment/min-cost-assignment.ts';
import { overlapMatches, type PreparedSequence } from './preprocess.ts';

/** The counts CLEAR metrics derive from; summing them combines sequences. */
export interface ClearCounts {
  readonly TP: number;
  readonly FP: number;
  readonly FN: number;
  readonly IDSW: number;
  readonly MT: number;
  readonly PT: number;
  readonly ML: number;
  readonly Frag: number;
  /** Ground-truth objects evaluated. */
  readonly GTIDs: number;
  /** Sum of IoU, and of 1 - IoU, over matched pairs. */
  readonly iouSum: number;
  readonly distanceSum: number;
}

export interface ClearMetrics extends ClearCounts {
  readonly MOTA: number;
  readonly MOTP: number;
  readonly MOTPDistance: number;
  readonly Recall: number;
  readonly Precision: number;
}

const MOSTLY_TRACKED = 0.8;
const MOSTLY_LOST = 0.2;

/** Counts matches, misses, false positives and switches over one sequence. */
export function clearCounts(sequence: PreparedSequence, iouThreshold: number): ClearCounts {
  const objects = sequence.numGtIds;
  const lastHypothesis = new Int32Array(objects).fill(-1);
  const lastMatchedFrame = new Int32Array(objects).fill(-1);
  const presentFrames = new Int32Array(objects);
  const trackedFrames = new Int32Array(objects);
  // For fragmentations: tracked at least once, and missed since it was last tracked.
  const everTracked = new Uint8Array(objects);
  const missedSinceTracked = new Uint8Array(objects);

  let TP = 0;
  let FP = 0;
  let FN = 0;
  let IDSW = 0;
  let Frag = 0;
  let iouSum = 0;
  let distanceSum = 0;

  sequence.frames.forEach(({ gtIds, predIds, iou }, k) => {
    const nG = gtIds.length;
    const nP = predIds.length;
    const hypothesisOf = new Int32Array(nG).fill(-1); // column matched to each row
    const predTaken = new Uint8Array(nP);
    let matches = 0;
    const match = (g: number, p: number): void => {
      const o = gtIds[g]!;
      const overlap = iou[g * nP + p]!;
      hypothesisOf[g] = p;
      predTaken[p] = 1;
      lastHypothesis[o] = predIds[p]!;
      lastMatchedFrame[o] = k;
      iouSum += overlap;
      distanceSum += 1 - overlap;
      matches++;
    };

    if (nG > 0 && nP > 0) {
      // 1. Keep last frame's correspondences that still hold.
      for (let g = 0; g < nG; g++) {
        const o = gtIds[g]!;
        if (lastHypothesis[o]! < 0 || lastMatchedFrame[o] !== k - 1) continue;
        const p = predIds.indexOf(lastHypothesis[o]!);
        if (p >= 0 && !predTaken[p] && overlapMatches(iou[g * nP + p]!, iouThreshold)) match(g, p);
      }
      // 2. Minimum total distance for the rest.
      const cost = new Float64Array(nG * nP);
      for (let g = 0; g < nG; g++) {
        for (let p = 0; p < nP; p++) {
          const overlap = iou[g * nP + p]!;
          const free = hypothesisOf[g]! < 0 && !predTaken[p];
          cost[g * nP + p] = free && overlapMatches(overlap, iouThreshold) ? 1 - overlap : FORBIDDEN;
        }
      }
      const assigned = minCostAssignment(cost, nG, nP);
      for (let g = 0; g < nG; g++) {
        const p = assigned[g]!;
        if (p < 0) continue;
        const previous = lastHypothesis[gtIds[g]!]!;
        if (previous >= 0 && previous !== predIds[p]) IDSW++;
        match(g, p);
      }
    }

    for (let g = 0; g < nG; g++) {
      const o = gtIds[g]!;
      presentFrames[o]++;
      if (hypothesisOf[g]! >= 0) {
        trackedFrames[o]++;
        if (missedSinceTracked[o]) Frag++;
        everTracked[o] = 1;
        missedSinceTracked[o] = 0;
      } else if (everTracked[o]) {
        missedSinceTracked[o] = 1;
      }
    }
    TP += matches;
    FN += nG - matches;
    FP += nP - matches;
  });

  let MT = 0;
  let PT = 0;
  let ML = 0;
  for (let o = 0; o < objects; o++) {
    const ratio = presentFrames[o]! > 0 ? trackedFrames[o]! / presentFrames[o]! : 0;
    if (ratio >= MOSTLY_TRACKED) MT++;
    else if (ratio >= MOSTLY_LOST) PT++;
    else ML++;
  }
  return { TP, FP, FN, IDSW, MT, PT, ML, Frag, GTIDs: objects, iouSum, distanceSum };
}

/** Adds up the counts of several sequences (ids of different sequences are different objects). */
export function sumClearCounts(parts: readonly ClearCounts[]): ClearCounts {
  const sum = (key: keyof ClearCounts): number => parts.reduce((total, part) => total + part[key], 0);
  return {
    TP: sum('TP'), FP: sum('FP'), FN: sum('FN'), IDSW: sum('IDSW'),
    MT: sum('MT'), PT: sum('PT'), ML: sum('ML'), Frag: sum('Frag'), GTIDs: sum('GTIDs'),
    iouSum: sum('iouSum'), distanceSum: sum('distanceSum'),
  };
}

/**
 * The ratios. A zero denominator counts as 1, as in TrackEval, so empty inputs give numbers, not
 * NaN (no ground truth: MOTA = -FP; no match: MOTP = 0, MOTPDistance = 1).
 */
export function clearMetrics(counts: ClearCounts): ClearMetrics {
  const { TP, FP, FN, IDSW, iouSum, distanceSum } = counts;
  const gtDets = Math.max(1, TP + FN);
  return {
    ...counts,
    MOTA: 1 - (FN + FP + IDSW) / gtDets,
    MOTP: iouSum / Math.max(1, TP),
    MOTPDistance: TP > 0 ? distanceSum / TP : 1,
    Recall: TP / gtDets,
    Precision: TP / Math.max(1, TP + FP),
  };
}
