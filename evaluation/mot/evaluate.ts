/**
 * Evaluation of sequences, one by one and combined.
 *
 * Combined figures come from counts summed over sequences, never from averaged ratios, so a long
 * sequence weighs as much as its boxes: CLEAR and identity counts add up; HOTA adds up its
 * per-alpha TP/FN/FP and its association and localisation sums, which is TrackEval's weighting of
 * AssA and LocA by true positives.
 */
import { clearCounts, clearMetrics, sumClearCounts, type ClearCounts, type ClearMetrics } from './clear-metrics.ts';
import { hotaCounts, hotaMetrics, sumHotaCounts, type HotaCounts, type HotaMetrics } from './hota.ts';
import { identityCounts, identityMetrics, sumIdentityCounts, type IdentityCounts, type IdentityMetrics } from './identity-metrics.ts';
import {
  AUTO_LAYOUT_RULE,
  findSequences,
  pairSequences,
  parseMotText,
  readMotFile,
  type MotLayout,
  type MotLayoutOption,
  type MotRows,
} from '../../lib/formats/mot-file.ts';
import { EVALUATION_RULES, prepareSequence, type PreprocessCounts } from './preprocess.ts';

/**
 * What one sequence, or all of them, scores: the HOTA, identity and CLEAR metrics (without the
 * IoU sums CLEAR keeps for combining) and the sizes of what was evaluated. Ratios are in [0, 1]
 * (MOTA can go below 0).
 */
export interface MotMetrics extends HotaMetrics, IdentityMetrics, Omit<ClearMetrics, 'iouSum' | 'distanceSum'> {
  /** Ground-truth boxes evaluated, predicted tracks and boxes kept (GTIDs: objects). */
  readonly GTDets: number;
  readonly PredIDs: number;
  readonly PredDets: number;
  /** Frames with an evaluated ground-truth box or a prediction. */
  readonly Frames: number;
}

/** The additive parts of one sequence's evaluation. */
export interface SequenceCounts {
  readonly clear: ClearCounts;
  readonly identity: IdentityCounts;
  readonly hota: HotaCounts;
  readonly predIds: number;
  readonly predDets: number;
  readonly frames: number;
  readonly preprocessing: PreprocessCounts;
}

export function countSequence(gt: MotRows, pred: MotRows, iouThreshold: number): SequenceCounts {
  const sequence = prepareSequence(gt, pred, iouThreshold);
  return {
    clear: clearCounts(sequence, iouThreshold),
    identity: identityCounts(sequence, iouThreshold),
    hota: hotaCounts(sequence),
    predIds: sequence.numPredIds,
    predDets: sequence.numPredDets,
    frames: sequence.frames.length,
    preprocessing: sequence.counts,
  };
}

function metricsOf(
  clear: ClearCounts, identity: IdentityCounts, hota: HotaCounts, predIds: number, predDets: number, frames: number,
): MotMetrics {
  const c = clearMetrics(clear);
  const i = identityMetrics(identity);
  const h = hotaMetrics(hota);
  return {
    HOTA: h.HOTA, DetA: h.DetA, AssA: h.AssA, LocA: h.LocA,
    MOTA: c.MOTA, MOTP: c.MOTP, MOTPDistance: c.MOTPDistance,
    IDF1: i.IDF1, IDP: i.IDP, IDR: i.IDR,
    Recall: c.Recall, Precision: c.Precision,
    TP: c.TP, FP: c.FP, FN: c.FN, IDSW: c.IDSW, MT: c.MT, PT: c.PT, ML: c.ML, Frag: c.Frag,
    IDTP: i.IDTP, IDFP: i.IDFP, IDFN: i.IDFN,
    DetRe: h.DetRe, DetPr: h.DetPr, AssRe: h.AssRe, AssPr: h.AssPr,
    GTIDs: c.GTIDs, GTDets: c.TP + c.FN, PredIDs: predIds, PredDets: predDets, Frames: frames,
  };
}

export function sequenceMetrics(counts: SequenceCounts): MotMetrics {
  return metricsOf(counts.clear, counts.identity, counts.hota, counts.predIds, counts.predDets, counts.frames);
}

/** All sequences as one: ids of different sequences are different tracks. */
export function combinedMetrics(parts: readonly SequenceCounts[]): MotMetrics {
  const sum = (f: (part: SequenceCounts) => number): number => parts.reduce((total, part) => total + f(part), 0);
  return metricsOf(
    sumClearCounts(parts.map((p) => p.clear)),
    sumIdentityCounts(parts.map((p) => p.identity)),
    sumHotaCounts(parts.map((p) => p.hota)),
    sum((p) => p.predIds),
    sum((p) => p.predDets),
    sum((p) => p.frames),
  );
}

/** How the ground-truth files' columns 8 to 10 were read: the option, and what each sequence got. */
export interface GtFormatReport {
  readonly option: MotLayoutOption;
  readonly rule: string;
  readonly sequences: Readonly<Record<string, MotLayout>>;
}

/** The command's JSON output. */
export interface MotReport {
  readonly iouThreshold: number;
  readonly gtFormat: GtFormatReport;
  readonly rules: readonly string[];
  readonly sequences: Readonly<Record<string, MotMetrics>>;
  readonly combined: MotMetrics;
  /** Ground-truth sequences that had no prediction file, scored as empty predictions. */
  readonly missingPredictions: readonly string[];
  /** Prediction files with no ground-truth sequence of their name, not scored. */
  readonly unmatchedPredictions: readonly string[];
  /** What the rules kept and dropped, per sequence. */
  readonly preprocessing: Readonly<Record<string, PreprocessCounts>>;
  /** Things that look like mistakes in the input, in words. */
  readonly warnings: readonly string[];
}

export interface EvaluateMotOptions {
  /** A MOTChallenge file, a sequence folder (`<seq>/gt/gt.txt`), or a folder of sequences. */
  readonly gt: string;
  /** A MOTChallenge file or a folder of `<seq>.txt` files. */
  readonly pred: string;
  readonly iouThreshold: number;
  /** How to read ground truth's columns 8 to 10 (default `auto`). */
  readonly gtFormat?: MotLayoutOption;
}

const GT_FORMAT_RULES: Readonly<Record<MotLayoutOption, string>> = {
  auto: AUTO_LAYOUT_RULE,
  mot15: 'MOT15: columns 8 to 10 are world coordinates x, y, z, ignored; every row is a pedestrian',
  mot16: 'MOT16: columns 8 and 9 are class and visibility',
};

/** Loads, pairs and evaluates the sequences under `gt` and `pred`. */
export function evaluateMot({ gt, pred, iouThreshold, gtFormat = 'auto' }: EvaluateMotOptions): MotReport {
  const { pairs, unmatchedPredictions } = pairSequences(findSequences(gt, '--gt'), findSequences(pred, '--pred'));
  const warnings: string[] = [];
  const sequences: Record<string, MotMetrics> = {};
  const preprocessing: Record<string, PreprocessCounts> = {};
  const parts: SequenceCounts[] = [];
  const missingPredictions: string[] = [];
  const layouts: Record<string, MotLayout> = {};
  for (const { name, gtFile, predFile } of pairs) {
    if (predFile === null) {
      missingPredictions.push(name);
      warnings.push(`sequence ${name}: no prediction file ${name}.txt, scored as an empty prediction (every object missed)`);
    }
    const gtRows = readMotFile(gtFile, gtFormat);
    layouts[name] = gtRows.layout;
    // A prediction's columns after conf are never read: MOT15 reading only checks they are numbers.
    const predRows = predFile === null ? parseMotText('', `${name} (no prediction)`) : readMotFile(predFile, 'mot15');
    const counts = countSequence(gtRows, predRows, iouThreshold);
    if (gtRows.count > 0 && counts.preprocessing.gtEvaluated === 0) {
      warnings.push(
        `sequence ${name}: none of the ${gtRows.count} rows of ${gtFile} is evaluated ` +
          '(each has conf 0 or a class other than 1 or -1); check its columns',
      );
    }
    parts.push(counts);
    sequences[name] = sequenceMetrics(counts);
    preprocessing[name] = counts.preprocessing;
  }
  for (const name of unmatchedPredictions) {
    warnings.push(`prediction ${name}.txt has no ground-truth sequence of that name and is not scored`);
  }
  return {
    iouThreshold,
    gtFormat: { option: gtFormat, rule: GT_FORMAT_RULES[gtFormat], sequences: layouts },
    rules: EVALUATION_RULES,
    sequences,
    combined: combinedMetrics(parts),
    missingPredictions,
    unmatchedPredictions,
    preprocessing,
    warnings,
  };
}
