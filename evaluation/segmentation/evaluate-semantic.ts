/**
 * `panoptes eval semantic`: label-map PNGs in two folders, paired by relative path (sub-folders
 * included, as in Cityscapes' `<city>/<image>.png`), pooled into one confusion matrix.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { ConfusionMatrix } from './confusion-matrix.ts';
import { forEachConcurrent, IMAGE_CONCURRENCY } from './concurrency.ts';
import { readLabelMap } from './label-map.ts';
import { semanticScores, type SemanticScores } from './semantic-metrics.ts';

export interface SemanticEvalOptions {
  readonly gtDir: string;
  readonly predDir: string;
  readonly classes: number;
  readonly ignoreLabel?: number;
}

export interface SemanticEvalResult extends SemanticScores {
  readonly metric: 'semantic';
  readonly images: number;
  readonly classes: number;
  readonly ignoreLabel: number | null;
  /** Prediction PNGs without a ground truth of the same name (not scored). */
  readonly unmatchedPredictions: number;
  readonly convention: string;
}

export const SEMANTIC_CONVENTION =
  'One confusion matrix over all images. Classes absent from both ground truth and predictions have null IoU/Dice ' +
  'and are left out of mIoU and mean Dice; accuracy is per ground-truth class (null when absent) and mean accuracy ' +
  'averages the classes present in the ground truth. Ground-truth pixels with the ignore label are not scored; ' +
  'a prediction outside 0..classes-1 (or equal to the ignore label) is a miss for the ground-truth class.';

/** Relative paths of the PNG files under `dir`, sorted. */
export async function listPngs(dir: string, flagName: string): Promise<string[]> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new Error(`${flagName} ${dir}: no such folder`);
  const entries = await readdir(dir, { recursive: true });
  return entries.filter((name) => name.toLowerCase().endsWith('.png')).sort();
}

export async function evaluateSemantic(options: SemanticEvalOptions): Promise<SemanticEvalResult> {
  const { gtDir, predDir, classes, ignoreLabel } = options;
  const gtFiles = await listPngs(gtDir, '--gt');
  if (gtFiles.length === 0) throw new Error(`--gt ${gtDir}: no .png label maps in this folder or below it`);
  const predFiles = new Set(await listPngs(predDir, '--pred'));
  const missing = gtFiles.filter((name) => !predFiles.has(name));
  if (missing.length) {
    throw new Error(
      `--pred ${predDir}: ${missing.length} of ${gtFiles.length} ground-truth label maps have no prediction of the same ` +
        `relative path (first: ${missing.slice(0, 3).join(', ')}); name each prediction like its ground truth`,
    );
  }
  const matrix = new ConfusionMatrix(classes, ignoreLabel);
  await forEachConcurrent(gtFiles, IMAGE_CONCURRENCY, async (name) => {
    const gtFile = path.join(gtDir, name);
    const predFile = path.join(predDir, name);
    const [gt, pred] = await Promise.all([readLabelMap(gtFile), readLabelMap(predFile)]);
    if (gt.width !== pred.width || gt.height !== pred.height) {
      throw new Error(
        `${predFile}: ${pred.width}x${pred.height}, but its ground truth ${gtFile} is ${gt.width}x${gt.height}; ` +
          `predictions must be at the ground truth's resolution`,
      );
    }
    matrix.add(gt.labels, pred.labels, gtFile);
  });
  return {
    metric: 'semantic',
    images: gtFiles.length,
    classes,
    ignoreLabel: ignoreLabel ?? null,
    unmatchedPredictions: predFiles.size - gtFiles.length,
    convention: SEMANTIC_CONVENTION,
    ...semanticScores(matrix),
  };
}
