/**
 * COCO average precision of instance masks (`segm`) or boxes (`bbox`), as pycocotools' COCOeval
 * computes it: prepare.ts reads the files as `loadRes` and `_prepare` do, match-image.ts matches
 * each image and category, accumulate.ts pools and summarizes.
 */
import { parseCocoInstances, parseCocoResults, readJsonFile, type CocoId, type CocoInstancesFile, type CocoResult } from '../../lib/formats/coco-instances.ts';
import { accumulate, averagePrecision, summarize, type CocoSummary } from './accumulate.ts';
import { cellIous, evaluateImage, rankedDetections, type ImageEvaluation } from './match-image.ts';
import { AREA_RANGES, type IouType } from './params.ts';
import { prepareEvaluation } from './prepare.ts';

/** The rules, one line each, for the command's output. */
export const INSTANCE_EVALUATION_RULES: readonly string[] = [
  'as pycocotools COCOeval: AP averaged over IoU thresholds 0.50:0.05:0.95 and 101 recall points, then over categories',
  'per image and category, detections by score (ties in file order), at most 100, matched greedily to the highest-IoU ground truth',
  'crowd regions (iscrowd) and objects outside the area range are ignored: matching one costs and earns nothing',
  'area ranges use the ground truth\'s area field: small < 32², medium 32² to 96², large > 96²; results\' area is their bbox\'s ' +
    'width x height when the first result has a bbox, else their mask\'s',
  'categories (and area ranges) without counted ground truth are left out of the means; a figure with nothing to average is -1',
];

export interface CategoryAp {
  readonly id: CocoId;
  readonly name: string;
  /** -1 when the category has no counted ground truth. */
  readonly AP: number;
  readonly AP50: number;
}

export interface InstanceReport extends CocoSummary {
  readonly iouType: IouType;
  readonly perCategory: readonly CategoryAp[];
  readonly images: number;
  readonly groundTruth: number;
  readonly results: number;
  readonly rules: readonly string[];
  readonly warnings: readonly string[];
}

/** Evaluates parsed files. `iouType` defaults to segm when any result has a mask, else bbox. */
export function evaluateInstanceFiles(gt: CocoInstancesFile, results: readonly CocoResult[], iouType?: IouType): InstanceReport {
  const type = iouType ?? (results.some((r) => r.segmentation !== undefined) ? 'segm' : 'bbox');
  const prepared = prepareEvaluation(gt, results, type);
  const I = prepared.imageIds.length;
  const K = prepared.categories.length;
  // evaluations[k][a]: the image evaluations in image order.
  const evaluations: ImageEvaluation[][][] = Array.from({ length: K }, () => AREA_RANGES.map(() => []));
  const keys = [...prepared.cells.keys()].sort((a, b) => a - b);
  for (const key of keys) {
    const cell = prepared.cells.get(key)!;
    const k = Math.floor(key / I);
    const ranked = rankedDetections(cell.detections);
    const ious = cellIous(ranked, cell, type);
    AREA_RANGES.forEach((range, a) => evaluations[k]![a]!.push(evaluateImage(ranked, cell, ious, range)));
  }
  const acc = accumulate(K, (k, a) => evaluations[k]![a]!);
  const perCategory = prepared.categories.map((category, k) => ({
    id: category.id,
    name: category.name,
    AP: averagePrecision(acc, [k]),
    AP50: averagePrecision(acc, [k], { iou: 0.5 }),
  }));
  const warnings = [...prepared.warnings];
  if (results.length === 0) warnings.push('the results list is empty: every object is missed');
  return {
    iouType: type,
    ...summarize(acc),
    perCategory,
    images: I,
    groundTruth: prepared.groundTruthCount,
    results: prepared.detectionCount,
    rules: INSTANCE_EVALUATION_RULES,
    warnings,
  };
}

export interface EvaluateInstancesOptions {
  /** A COCO ground-truth JSON file (images, annotations, categories). */
  readonly gt: string;
  /** A COCO results JSON file (a list). */
  readonly pred: string;
  readonly iouType?: IouType;
}

/** Reads both files and evaluates them. */
export function evaluateInstances({ gt, pred, iouType }: EvaluateInstancesOptions): InstanceReport {
  const groundTruth = parseCocoInstances(readJsonFile(gt, '--gt'), gt);
  const results = parseCocoResults(readJsonFile(pred, '--pred'), pred);
  return evaluateInstanceFiles(groundTruth, results, iouType);
}
