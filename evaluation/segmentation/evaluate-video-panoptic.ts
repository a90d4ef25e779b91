/**
 * `panoptes eval video-panoptic`: VPQ (video-panoptic-quality.ts) and STQ
 * (segmentation-tracking-quality.ts) over sequences of COCO panoptic frames.
 *
 * Folder layout, the one `--save-panoptic <dir>` writes (one folder per stream):
 *
 *     <root>/<sequence>/panoptic.json     COCO panoptic JSON for the sequence's frames
 *     <root>/<sequence>/<file_name>       its PNGs, file_name as the JSON gives it (e.g. 000042.png)
 *
 * `--gt` and `--pred` are two such roots with the same sequence names; a root that itself holds
 * a panoptic.json is one sequence. Frames are the ground truth's annotations in file-name order
 * (numbers compared as numbers); each is paired with the prediction of the same image_id, else
 * the same file_name, so a prediction may hold more frames than the ground truth annotates.
 * A segment id must name the same object in every frame of a sequence (track ids).
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { readCocoPanopticJson, remapCategoriesByName, type Category } from './coco-panoptic-json.ts';
import { forEachConcurrent, IMAGE_CONCURRENCY } from './concurrency.ts';
import { loadFramePair, type FramePair } from './frame-pair.ts';
import { matchAnnotations } from './match-annotations.ts';
import { PanopticQualityAccumulator, type PqClassScores, type PqSummary } from './panoptic-quality.ts';
import { StqAccumulator, type StqResult } from './segmentation-tracking-quality.ts';
import { addVideoWindows, framesInWindow, VPQ_SPANS } from './video-panoptic-quality.ts';

/** The JSON file of each sequence folder. */
export const SEQUENCE_JSON = 'panoptic.json';

export interface VideoPanopticEvalOptions {
  readonly gtRoot: string;
  readonly predRoot: string;
  readonly categoriesByName?: boolean;
}

export interface VpqForSpan {
  /** Window span in video frames (VPSNet's k). */
  readonly k: number;
  /** Consecutive ground-truth frames per window. */
  readonly framesPerWindow: number;
  readonly windows: number;
  readonly All: PqSummary;
  readonly Things: PqSummary;
  readonly Stuff: PqSummary;
  readonly perClass: readonly PqClassScores[];
}

export interface VideoPanopticEvalResult {
  readonly metric: 'video-panoptic';
  readonly sequences: readonly { readonly name: string; readonly frames: number }[];
  /** Means over the spans that had windows (VPSNet averages k = 0, 5, 10, 15). */
  readonly vpq: { readonly All: number | null; readonly Things: number | null; readonly Stuff: number | null; readonly spans: readonly number[] };
  readonly vpqPerSpan: readonly VpqForSpan[];
  readonly stq: StqResult;
  readonly convention: string;
}

export const VIDEO_CONVENTION =
  'VPQ as VPSNet eval_vpq.py: span k = 0/5/10/15 is a window of k/5+1 consecutive ground-truth frames, each window scored ' +
  'like one image with ids as tubes; vpq averages the spans that had windows. STQ = sqrt(AQ*IoU) as deeplab2: AQ over ' +
  'thing tubes per sequence, IoU over one confusion matrix with void ground truth left out. Values are fractions.';

interface Sequence {
  readonly name: string;
  readonly gtDir: string;
  readonly predDir: string;
}

const isFile = (file: string) => stat(file).then((s) => s.isFile(), () => false);

async function findSequences(gtRoot: string, predRoot: string): Promise<Sequence[]> {
  if (!(await stat(gtRoot).then((s) => s.isDirectory(), () => false))) throw new Error(`--gt ${gtRoot}: no such folder`);
  if (await isFile(path.join(gtRoot, SEQUENCE_JSON))) {
    return [{ name: path.basename(path.resolve(gtRoot)), gtDir: gtRoot, predDir: predRoot }];
  }
  const names: string[] = [];
  for (const entry of await readdir(gtRoot, { withFileTypes: true })) {
    if (entry.isDirectory() && (await isFile(path.join(gtRoot, entry.name, SEQUENCE_JSON)))) names.push(entry.name);
  }
  if (names.length === 0) {
    throw new Error(
      `--gt ${gtRoot}: no sequences; expected <gt>/<sequence>/${SEQUENCE_JSON} with the PNGs beside it ` +
        `(or ${SEQUENCE_JSON} directly in <gt> for a single sequence)`,
    );
  }
  return names.sort().map((name) => ({ name, gtDir: path.join(gtRoot, name), predDir: path.join(predRoot, name) }));
}

/** The ground truth's categories over all sequences; one id must mean one thing everywhere. */
function mergeCategories(all: ReadonlyMap<number, Category>, more: ReadonlyMap<number, Category>, file: string): Map<number, Category> {
  const merged = new Map(all);
  for (const [id, category] of more) {
    const known = merged.get(id);
    if (known && known.isThing !== category.isThing) {
      throw new Error(`--gt ${file}: category ${id} ("${category.name}") is ${category.isThing ? 'a thing' : 'stuff'} here but not in an earlier sequence`);
    }
    if (!known) merged.set(id, category);
  }
  return merged;
}

const byFileName = new Intl.Collator(undefined, { numeric: true });

export async function evaluateVideoPanoptic(options: VideoPanopticEvalOptions): Promise<VideoPanopticEvalResult> {
  const sequences = await findSequences(options.gtRoot, options.predRoot);
  let categories = new Map<number, Category>();
  const loaded: { sequence: Sequence; frames: FramePair[] }[] = [];
  for (const sequence of sequences) {
    const gtJson = path.join(sequence.gtDir, SEQUENCE_JSON);
    const predJson = path.join(sequence.predDir, SEQUENCE_JSON);
    const gt = await readCocoPanopticJson(gtJson, '--gt', true);
    if (!(await isFile(predJson))) {
      throw new Error(`--pred ${options.predRoot}: sequence "${sequence.name}" has no ${predJson}; name each prediction folder like its ground-truth sequence`);
    }
    let pred = await readCocoPanopticJson(predJson, '--pred', false);
    if (options.categoriesByName) pred = remapCategoriesByName(pred, gt.categories, '--pred');
    categories = mergeCategories(categories, gt.categories, gtJson);
    const ordered = { ...gt, annotations: [...gt.annotations].sort((a, b) => byFileName.compare(a.fileName, b.fileName)) };
    const pairs = matchAnnotations(ordered, pred, '--pred');
    const frames: FramePair[] = new Array(pairs.length);
    await forEachConcurrent(pairs, IMAGE_CONCURRENCY, async (pair, index) => {
      frames[index] = await loadFramePair({
        gtDir: sequence.gtDir,
        predDir: sequence.predDir,
        gt: pair.gt,
        pred: pair.pred,
        categories: gt.categories,
        repeatedIds: 'sum',
      });
    });
    loaded.push({ sequence, frames });
  }

  const vpqPerSpan = VPQ_SPANS.map((k): VpqForSpan => {
    const accumulator = new PanopticQualityAccumulator();
    const framesPerWindow = framesInWindow(k);
    let windows = 0;
    for (const { frames } of loaded) windows += addVideoWindows(frames, framesPerWindow, accumulator);
    return { k, framesPerWindow, windows, ...accumulator.result(categories) };
  });
  const scored = vpqPerSpan.filter((span) => span.All.n > 0);
  const meanOf = (key: 'All' | 'Things' | 'Stuff') => {
    const values = scored.flatMap((span) => (span[key].pq === null ? [] : [span[key].pq]));
    return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
  };

  const stq = new StqAccumulator(categories);
  for (const { sequence, frames } of loaded) for (const frame of frames) stq.addFrame(sequence.name, frame);

  return {
    metric: 'video-panoptic',
    sequences: loaded.map(({ sequence, frames }) => ({ name: sequence.name, frames: frames.length })),
    vpq: { All: meanOf('All'), Things: meanOf('Things'), Stuff: meanOf('Stuff'), spans: scored.map((span) => span.k) },
    vpqPerSpan,
    stq: stq.result(),
    convention: VIDEO_CONVENTION,
  };
}
