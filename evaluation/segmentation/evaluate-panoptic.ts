/**
 * `panoptes eval panoptic`: COCO panoptic ground truth and predictions (JSON + PNG folder each),
 * scored as panopticapi's `pq_compute` scores them (see panoptic-quality.ts).
 */
import { readCocoPanopticJson, remapCategoriesByName } from './coco-panoptic-json.ts';
import { forEachConcurrent, IMAGE_CONCURRENCY } from './concurrency.ts';
import { loadFramePair } from './frame-pair.ts';
import { matchAnnotations } from './match-annotations.ts';
import { PanopticQualityAccumulator, type PqResult } from './panoptic-quality.ts';

export interface PanopticEvalOptions {
  readonly gtJson: string;
  readonly gtDir: string;
  readonly predJson: string;
  readonly predDir: string;
  /** Match prediction categories to ground-truth categories by name instead of id. */
  readonly categoriesByName?: boolean;
}

export interface PanopticEvalResult extends PqResult {
  readonly metric: 'panoptic';
  readonly images: number;
  readonly convention: string;
}

export const PANOPTIC_CONVENTION =
  'COCO panoptic API rules: match = same category and IoU > 0.5 with the prediction\'s void pixels left out of the union; ' +
  'crowd ground truth never matched; an unmatched prediction more than half on void or on its category\'s crowd region is ' +
  'not a false positive. Values are fractions (panopticapi prints them ×100). All/Things/Stuff average the categories with ' +
  'TP+FP+FN > 0; per-class pq/sq/rq are null for the others (panopticapi writes 0).';

export async function evaluatePanoptic(options: PanopticEvalOptions): Promise<PanopticEvalResult> {
  const gt = await readCocoPanopticJson(options.gtJson, '--gt-json', true);
  let pred = await readCocoPanopticJson(options.predJson, '--pred-json', false);
  if (options.categoriesByName) pred = remapCategoriesByName(pred, gt.categories, '--pred-json');
  if (gt.annotations.length === 0) throw new Error(`--gt-json ${gt.file}: no annotations to evaluate`);
  const pairs = matchAnnotations(gt, pred, '--pred-json');
  const accumulator = new PanopticQualityAccumulator();
  await forEachConcurrent(pairs, IMAGE_CONCURRENCY, async (pair) => {
    const frame = await loadFramePair({
      gtDir: options.gtDir,
      predDir: options.predDir,
      gt: pair.gt,
      pred: pair.pred,
      categories: gt.categories,
      repeatedIds: 'last',
    });
    accumulator.add(frame.pairs, frame.gt, frame.pred);
  });
  return { metric: 'panoptic', images: pairs.length, convention: PANOPTIC_CONVENTION, ...accumulator.result(gt.categories) };
}
