/**
 * One ground-truth frame and its prediction, reduced to what every panoptic metric needs: the
 * pixel counts of each (gt id, pred id) pair and the annotated segments on both sides.
 *
 * The prediction is checked as panopticapi checks it: every non-void id in its PNG is in its
 * JSON, every id in its JSON is in its PNG, and every category is a ground-truth category.
 */
import path from 'node:path';
import type { Category, PanopticAnnotation, SegmentInfo } from './coco-panoptic-json.ts';
import { PairCounter, type PairCounts } from './pair-counts.ts';
import { readPanopticPng } from './panoptic-png.ts';
import { VOID_ID, type GroundTruthSegment, type PredictedSegment } from './panoptic-quality.ts';

export interface FramePair {
  readonly pairs: PairCounts;
  /** Annotated ground-truth segments by id, in annotation order. */
  readonly gt: ReadonlyMap<number, GroundTruthSegment>;
  /** Predicted segments by id, with areas counted in the PNG. */
  readonly pred: ReadonlyMap<number, PredictedSegment>;
}

export interface FramePairSource {
  readonly gtDir: string;
  readonly predDir: string;
  readonly gt: PanopticAnnotation;
  readonly pred: PanopticAnnotation;
  /** Ground-truth categories by id. */
  readonly categories: ReadonlyMap<number, Category>;
  /**
   * What to do with an id listed twice in one annotation: panopticapi keeps the `last` entry;
   * the VPSNet video evaluation `sum`s their areas.
   */
  readonly repeatedIds: 'last' | 'sum';
}

/** One per evaluation: its scratch buffers are reused from frame to frame. */
const counter = new PairCounter();

export async function loadFramePair(source: FramePairSource): Promise<FramePair> {
  const gtFile = path.join(source.gtDir, source.gt.fileName);
  const predFile = path.join(source.predDir, source.pred.fileName);
  const [gtMap, predMap] = await Promise.all([readPanopticPng(gtFile), readPanopticPng(predFile)]);
  if (gtMap.width !== predMap.width || gtMap.height !== predMap.height) {
    throw new Error(
      `${predFile}: ${predMap.width}x${predMap.height}, but its ground truth ${gtFile} is ${gtMap.width}x${gtMap.height}; ` +
        `predictions must be at the ground truth's resolution`,
    );
  }
  const pairs = counter.count(gtMap.ids, predMap.ids);
  const gtCounted = new Map<number, number>();
  const predCounted = new Map<number, number>();
  for (let i = 0; i < pairs.length; i++) {
    gtCounted.set(pairs.gtIds[i], (gtCounted.get(pairs.gtIds[i]) ?? 0) + pairs.counts[i]);
    predCounted.set(pairs.predIds[i], (predCounted.get(pairs.predIds[i]) ?? 0) + pairs.counts[i]);
  }

  const gt = new Map<number, GroundTruthSegment>();
  for (const s of source.gt.segments) {
    if (!source.categories.has(s.categoryId)) {
      throw new Error(`${gtFile}: ground-truth segment ${s.id} has category ${s.categoryId}, which the ground-truth "categories" list lacks`);
    }
    const area = s.area ?? gtCounted.get(s.id) ?? 0;
    const earlier = gt.get(s.id);
    if (earlier && source.repeatedIds === 'sum') gt.set(s.id, { ...earlier, area: earlier.area + area });
    else gt.set(s.id, { categoryId: s.categoryId, isCrowd: s.isCrowd, area });
  }

  const listed = new Map<number, SegmentInfo>(source.pred.segments.map((s) => [s.id, s]));
  const pred = new Map<number, PredictedSegment>();
  for (const [id, area] of predCounted) {
    if (id === VOID_ID) continue;
    const info = listed.get(id);
    if (!info) {
      throw new Error(`${predFile}: segment id ${id} (${area} pixels) is in the PNG but not in the prediction JSON's segments_info for ${source.pred.fileName}`);
    }
    if (!source.categories.has(info.categoryId)) {
      throw new Error(
        `${predFile}: segment ${id} has category ${info.categoryId}, which is not a ground-truth category ` +
          `(${[...source.categories.keys()].join(', ')}); use the ground truth's category ids, or --categories-by-name`,
      );
    }
  }
  // In annotation order, like panopticapi's dict of segments_info.
  for (const [id, info] of listed) {
    const area = predCounted.get(id);
    if (area === undefined) {
      throw new Error(`${predFile}: segment id ${id} is in the prediction JSON's segments_info for ${source.pred.fileName} but has no pixel in the PNG; list only segments the PNG holds`);
    }
    pred.set(id, { categoryId: info.categoryId, area });
  }
  return { pairs, gt, pred };
}
