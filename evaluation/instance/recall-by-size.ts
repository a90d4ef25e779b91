/**
 * Recall by object size at one IoU, with precision: what a quality table can say of boxes a
 * person read off frames by eye (where COCO's average over IoU 0.50-0.95 would mostly measure
 * the reader's hand). Sizes are COCO's (params.ts AREA_RANGES: small under 32², medium to 96²,
 * large above), by the annotated box's area.
 *
 * Per frame, the pairs are matched one to one, the highest IoU first (match-boxes.ts). An annotation marked
 * `unsure` (a blob a person could not call one vehicle, or a vehicle at all) is never missed,
 * and a detection on it is not false.
 */
import type { Box } from '../../lib/geometry/box.ts';
import { matchBoxes } from './match-boxes.ts';
import { AREA_RANGES } from './params.ts';

export interface AnnotatedBox {
  readonly box: Box;
  readonly unsure?: boolean;
}

export interface FrameBoxes {
  readonly truth: readonly AnnotatedBox[];
  readonly found: readonly Box[];
}

export type SizeLabel = 'small' | 'medium' | 'large';

export interface SizeRecall {
  readonly found: number;
  readonly total: number;
}

export interface RecallBySize {
  readonly bySize: Readonly<Record<SizeLabel, SizeRecall>>;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly recall: number;
  readonly precision: number;
}

const area = (b: Box) => Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);

/** COCO's size label of a box (its area in pixels). */
export function sizeOf(box: Box): SizeLabel {
  const a = area(box);
  const range = AREA_RANGES.find((r) => r.label !== 'all' && a >= r.min && a <= r.max);
  return (range?.label ?? 'large') as SizeLabel;
}

/** Matches each frame's boxes at `iouThreshold` and counts what was found, by size. */
export function recallBySize(frames: readonly FrameBoxes[], iouThreshold: number): RecallBySize {
  const bySize: Record<SizeLabel, { found: number; total: number }> = {
    small: { found: 0, total: 0 },
    medium: { found: 0, total: 0 },
    large: { found: 0, total: 0 },
  };
  let tp = 0;
  let fp = 0;
  for (const { truth, found } of frames) {
    const truthTaken = new Uint8Array(truth.length);
    const foundTaken = new Uint8Array(found.length);
    for (const { a, b } of matchBoxes(truth.map((t) => t.box), found, iouThreshold)) {
      truthTaken[a] = 1;
      foundTaken[b] = 1;
    }
    truth.forEach((t, ti) => {
      if (t.unsure) return;
      const bucket = bySize[sizeOf(t.box)];
      bucket.total++;
      if (truthTaken[ti]) {
        bucket.found++;
        tp++;
      }
    });
    found.forEach((_, fi) => {
      if (!foundTaken[fi]) fp++;
    });
  }
  const total = bySize.small.total + bySize.medium.total + bySize.large.total;
  return {
    bySize,
    tp,
    fp,
    fn: total - tp,
    recall: total > 0 ? tp / total : 0,
    precision: tp + fp > 0 ? tp / (tp + fp) : 0,
  };
}
