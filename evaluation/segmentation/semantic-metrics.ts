/**
 * Semantic segmentation scores from one confusion matrix over all images (the Cityscapes and
 * mmsegmentation way: pixels are pooled over the data set before any ratio is taken).
 *
 * Per class c, with TP = pixels of c predicted c, FP = pixels predicted c whose ground truth is
 * another class, FN = pixels of c predicted as something else (another class or no class):
 * - IoU = TP / (TP + FP + FN), Dice = 2TP / (2TP + FP + FN), accuracy (recall) = TP / (TP + FN).
 *
 * Which classes count (the convention, stated in the output too):
 * - A class that appears in neither the ground truth nor the predictions has no IoU or Dice
 *   (0/0): it is `null` per class and left out of mIoU and mean Dice. A class that is only
 *   predicted scores IoU 0 and counts.
 * - Accuracy needs ground-truth pixels: it is `null` for a class absent from the ground truth,
 *   and mean accuracy averages over the classes present in the ground truth.
 * - Pixel accuracy = ΣTP / all evaluated ground-truth pixels (ignore-label pixels excluded).
 */
import type { ConfusionMatrix } from './confusion-matrix.ts';

export interface SemanticClassScores {
  readonly class: number;
  readonly iou: number | null;
  readonly dice: number | null;
  readonly accuracy: number | null;
  readonly gtPixels: number;
  /** Pixels predicted as this class, on scored (not ignored) ground-truth pixels. */
  readonly predictedPixels: number;
  readonly truePositives: number;
}

export interface SemanticScores {
  readonly mIoU: number | null;
  readonly meanDice: number | null;
  readonly pixelAccuracy: number | null;
  readonly meanAccuracy: number | null;
  /** Classes in mIoU and mean Dice: present in the ground truth or the predictions. */
  readonly classesInMeans: number;
  /** Classes in mean accuracy: present in the ground truth. */
  readonly classesInGroundTruth: number;
  readonly pixels: {
    /** Ground-truth pixels that were scored. */
    readonly evaluated: number;
    /** Ground-truth pixels with the ignore label. */
    readonly ignored: number;
    /** Scored pixels whose prediction was no class (≥ --classes, or the ignore label). */
    readonly predictedNoClass: number;
  };
  readonly perClass: readonly SemanticClassScores[];
}

const mean = (values: readonly number[]): number | null =>
  values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;

export function semanticScores(matrix: ConfusionMatrix): SemanticScores {
  const n = matrix.classes;
  const gtPixels = new Float64Array(n);
  const predicted = new Float64Array(n);
  let evaluated = 0;
  let noClass = 0;
  for (let g = 0; g < n; g++) {
    for (let p = 0; p <= n; p++) {
      const count = matrix.at(g, p);
      gtPixels[g] += count;
      if (p < n) predicted[p] += count;
      else noClass += count;
    }
    evaluated += gtPixels[g];
  }
  let correct = 0;
  const perClass: SemanticClassScores[] = [];
  for (let c = 0; c < n; c++) {
    const tp = matrix.at(c, c);
    correct += tp;
    const fp = predicted[c] - tp;
    const fn = gtPixels[c] - tp;
    const present = tp + fp + fn > 0;
    perClass.push({
      class: c,
      iou: present ? tp / (tp + fp + fn) : null,
      dice: present ? (2 * tp) / (2 * tp + fp + fn) : null,
      accuracy: gtPixels[c] > 0 ? tp / gtPixels[c] : null,
      gtPixels: gtPixels[c],
      predictedPixels: predicted[c],
      truePositives: tp,
    });
  }
  const defined = (key: 'iou' | 'dice' | 'accuracy') =>
    perClass.flatMap((s) => (s[key] === null ? [] : [s[key]]));
  return {
    mIoU: mean(defined('iou')),
    meanDice: mean(defined('dice')),
    pixelAccuracy: evaluated > 0 ? correct / evaluated : null,
    meanAccuracy: mean(defined('accuracy')),
    classesInMeans: defined('iou').length,
    classesInGroundTruth: defined('accuracy').length,
    pixels: { evaluated, ignored: matrix.ignoredPixels, predictedNoClass: noClass },
    perClass,
  };
}
