/**
 * From two MOTChallenge files to what the metrics read: per frame, which ground-truth objects and
 * which predictions take part, and their box overlaps.
 *
 * The rules are MOTChallenge's for pedestrian tracking, as TrackEval's MotChallenge2DBox applies
 * them:
 * 1. A ground-truth row with conf 0 is ignored (MOTChallenge marks boxes not to evaluate so).
 * 2. Only pedestrians (class 1) are evaluated. A ground-truth file without a class column, or with
 *    -1 there (MOT15 and TUD-Campus style), is all pedestrians. Other classes are ignored.
 * 3. A prediction that overlaps a ground-truth box of a distractor class (2 person on vehicle,
 *    7 static person, 8 distractor, 12 reflection) is removed before evaluation, so a tracker is
 *    neither rewarded nor punished for following one. Per frame, predictions are matched to every
 *    ground-truth box (any class, conf 0 included) by a maximum-total-IoU assignment over the pairs
 *    with IoU ≥ the threshold; those matched to a distractor go.
 * 4. Every prediction row counts, whatever its conf: columns after the box are the tracker's score
 *    and world coordinates, not a class.
 *
 * Unlike TrackEval, the distractor match uses the evaluation's IoU threshold (TrackEval fixes
 * 0.5, the default here). Frames are those with an evaluated ground-truth row or a prediction.
 */
import { minCostAssignment } from '../../lib/assignment/min-cost-assignment.ts';
import { NO_CLASS, type MotRows } from '../../lib/formats/mot-file.ts';
import { boxIou, fromXywh, IOU_EPSILON } from '../../lib/geometry/box.ts';

export const PEDESTRIAN_CLASS = 1;
/** person on vehicle, static person, distractor, reflection. */
export const DISTRACTOR_CLASSES: ReadonlySet<number> = new Set([2, 7, 8, 12]);

/** The rules above, one line each, for the command's output. */
export const EVALUATION_RULES: readonly string[] = [
  'ground-truth rows with conf 0 are ignored',
  'only ground-truth class 1 (pedestrian) is evaluated; a file without a class column, or with -1 there, is all pedestrians',
  'predictions matched (IoU >= threshold, per frame, maximum total IoU) to a ground-truth box of a distractor class ' +
    '(2 person on vehicle, 7 static person, 8 distractor, 12 reflection) are removed before evaluation',
  'every prediction row counts, whatever its conf; prediction columns after conf are ignored',
  'CLEAR and identity metrics match at IoU >= threshold; HOTA averages over IoU thresholds 0.05..0.95',
];

/** Whether an overlap counts as a match at `threshold`, with TrackEval's rounding slack. */
export function overlapMatches(iou: number, threshold: number): boolean {
  return iou >= threshold - IOU_EPSILON;
}

/** One frame as the metrics see it. Ids are dense indices (0..numGtIds-1, 0..numPredIds-1). */
export interface EvaluationFrame {
  readonly frame: number;
  /** Evaluated ground-truth objects, in file order. */
  readonly gtIds: Int32Array;
  /** Predictions, in file order. */
  readonly predIds: Int32Array;
  /** IoU of ground truth g and prediction p at `iou[g * predIds.length + p]`. */
  readonly iou: Float64Array;
}

/** What the rules kept and dropped, so a user can see why counts differ from the files. */
export interface PreprocessCounts {
  readonly gtRows: number;
  readonly gtEvaluated: number;
  readonly gtIgnoredConfZero: number;
  readonly gtIgnoredClass: number;
  readonly predRows: number;
  readonly predRemovedOnDistractor: number;
}

export interface PreparedSequence {
  readonly frames: readonly EvaluationFrame[];
  readonly numGtIds: number;
  readonly numPredIds: number;
  readonly numGtDets: number;
  readonly numPredDets: number;
  /** The file's id for each dense ground-truth index, and for each prediction index. */
  readonly gtIdLabels: Int32Array;
  readonly predIdLabels: Int32Array;
  readonly counts: PreprocessCounts;
}

/** Row indices of `rows` grouped by frame: `byFrame.get(frame)` lists them in file order. */
function rowsByFrame(rows: MotRows): Map<number, number[]> {
  const byFrame = new Map<number, number[]>();
  for (let r = 0; r < rows.count; r++) {
    const f = rows.frame[r]!;
    let list = byFrame.get(f);
    if (!list) byFrame.set(f, (list = []));
    list.push(r);
  }
  return byFrame;
}

/** Ids must be unique per frame, or no matching means anything. */
function checkUniqueIds(rows: MotRows, byFrame: ReadonlyMap<number, readonly number[]>): void {
  const seen = new Set<number>();
  for (const [frame, list] of byFrame) {
    seen.clear();
    for (const r of list) {
      const id = rows.id[r]!;
      if (seen.has(id)) {
        throw new Error(
          `${rows.source} line ${rows.line[r]}: id ${id} appears twice in frame ${frame}; each id may appear once per frame`,
        );
      }
      seen.add(id);
    }
  }
}

/** Each row's box as corners (the one box convention), made once per file and kept with it. */
const cornersByRows = new WeakMap<MotRows, Float64Array>();

function cornersOf(rows: MotRows): Float64Array {
  let corners = cornersByRows.get(rows);
  if (!corners) {
    corners = new Float64Array(rows.count * 4);
    for (let r = 0; r < rows.count; r++) corners.set(fromXywh(rows.left[r]!, rows.top[r]!, rows.width[r]!, rows.height[r]!), r * 4);
    cornersByRows.set(rows, corners);
  }
  return corners;
}

function iouOf(a: MotRows, i: number, b: MotRows, j: number): number {
  return boxIou(cornersOf(a), cornersOf(b), i * 4, j * 4);
}

/**
 * The predictions in `predRows` that rule 3 removes: matched, at `threshold`, to a ground-truth
 * row of a distractor class among `gtRowsInFrame` (all classes, as TrackEval matches).
 */
function predictionsOnDistractors(
  gt: MotRows, gtRowsInFrame: readonly number[], pred: MotRows, predRows: readonly number[], threshold: number,
): Set<number> {
  const removed = new Set<number>();
  if (!gtRowsInFrame.some((r) => DISTRACTOR_CLASSES.has(gt.classId[r]!))) return removed;
  const rows = gtRowsInFrame.length;
  const cols = predRows.length;
  // Maximise total IoU over the pairs that reach the threshold; the others score 0 and are
  // dropped after assignment, as TrackEval does.
  const cost = new Float64Array(rows * cols);
  for (let g = 0; g < rows; g++) {
    for (let p = 0; p < cols; p++) {
      const iou = iouOf(gt, gtRowsInFrame[g]!, pred, predRows[p]!);
      cost[g * cols + p] = overlapMatches(iou, threshold) ? -iou : 0;
    }
  }
  const assigned = minCostAssignment(cost, rows, cols);
  for (let g = 0; g < rows; g++) {
    const p = assigned[g]!;
    if (p < 0 || !(-cost[g * cols + p]! > IOU_EPSILON)) continue;
    if (DISTRACTOR_CLASSES.has(gt.classId[gtRowsInFrame[g]!]!)) removed.add(predRows[p]!);
  }
  return removed;
}

/** Dense indices for ids, in increasing id order (TrackEval's relabelling). */
function denseIds(ids: Iterable<number>): { index: Map<number, number>; labels: Int32Array } {
  const labels = Int32Array.from(new Set(ids)).sort();
  return { index: new Map(Array.from(labels, (id, i) => [id, i])), labels };
}

/** Applies the rules in this module's doc comment to one sequence. */
export function prepareSequence(gt: MotRows, pred: MotRows, iouThreshold: number): PreparedSequence {
  const gtByFrame = rowsByFrame(gt);
  const predByFrame = rowsByFrame(pred);
  checkUniqueIds(gt, gtByFrame);
  checkUniqueIds(pred, predByFrame);

  let gtIgnoredConfZero = 0;
  let gtIgnoredClass = 0;
  const evaluatedGt = new Uint8Array(gt.count);
  for (let r = 0; r < gt.count; r++) {
    const cls = gt.classId[r]!;
    if (gt.conf[r] === 0) gtIgnoredConfZero++;
    else if (cls !== PEDESTRIAN_CLASS && cls !== NO_CLASS) gtIgnoredClass++;
    else evaluatedGt[r] = 1;
  }

  const keptPred = new Uint8Array(pred.count).fill(1);
  let predRemovedOnDistractor = 0;
  for (const [frame, predRows] of predByFrame) {
    const gtRows = gtByFrame.get(frame);
    if (!gtRows) continue;
    for (const r of predictionsOnDistractors(gt, gtRows, pred, predRows, iouThreshold)) {
      keptPred[r] = 0;
      predRemovedOnDistractor++;
    }
  }

  const gtIds = denseIds(Array.from(gt.id).filter((_, r) => evaluatedGt[r]));
  const predIds = denseIds(Array.from(pred.id).filter((_, r) => keptPred[r]));

  const frameNumbers = new Set<number>();
  for (let r = 0; r < gt.count; r++) if (evaluatedGt[r]) frameNumbers.add(gt.frame[r]!);
  for (let r = 0; r < pred.count; r++) if (keptPred[r]) frameNumbers.add(pred.frame[r]!);

  const frames: EvaluationFrame[] = [];
  let numGtDets = 0;
  let numPredDets = 0;
  for (const frame of Array.from(frameNumbers).sort((a, b) => a - b)) {
    const gtRows = (gtByFrame.get(frame) ?? []).filter((r) => evaluatedGt[r]);
    const predRows = (predByFrame.get(frame) ?? []).filter((r) => keptPred[r]);
    const cols = predRows.length;
    const iou = new Float64Array(gtRows.length * cols);
    for (let g = 0; g < gtRows.length; g++) {
      for (let p = 0; p < cols; p++) iou[g * cols + p] = iouOf(gt, gtRows[g]!, pred, predRows[p]!);
    }
    frames.push({
      frame,
      gtIds: Int32Array.from(gtRows, (r) => gtIds.index.get(gt.id[r]!)!),
      predIds: Int32Array.from(predRows, (r) => predIds.index.get(pred.id[r]!)!),
      iou,
    });
    numGtDets += gtRows.length;
    numPredDets += cols;
  }

  return {
    frames,
    numGtIds: gtIds.labels.length,
    numPredIds: predIds.labels.length,
    numGtDets,
    numPredDets,
    gtIdLabels: gtIds.labels,
    predIdLabels: predIds.labels,
    counts: {
      gtRows: gt.count,
      gtEvaluated: numGtDets,
      gtIgnoredConfZero,
      gtIgnoredClass,
      predRows: pred.count,
      predRemovedOnDistractor,
    },
  };
}
