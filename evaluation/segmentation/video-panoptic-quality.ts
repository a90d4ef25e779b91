/**
 * Video panoptic quality (VPQ), as the VPSNet evaluation (`mcahny/vps`, `tools/eval_vpq.py`)
 * computes it: PQ where a segment is a *tube*, the pixels of one id across a window of
 * consecutive frames of a sequence.
 *
 * - For each window length, every window of that many consecutive frames of a sequence (start
 *   0, 1, ..., length − window) is scored like one image by the PQ rules of
 *   panoptic-quality.ts: tube areas and intersections are summed over the window's frames, a
 *   tube takes the category and crowd flag of its first frame, and TP/FP/FN/IoU add up over
 *   all windows of all sequences before PQ is taken per category and averaged.
 * - VPSNet names the window by k, the span in *video* frames, because Cityscapes-VPS annotates
 *   every 5th frame: k = 0, 5, 10, 15 are windows of 1, 2, 3, 4 annotated frames. Here too a
 *   window of k is k/5 + 1 consecutive frames *of the ground truth's list*, whatever their
 *   frame numbers. k = 0 is plain per-frame PQ; an id switch is only punished for k > 0.
 * - VPQ is the mean over the k values of the All PQ (VPSNet reports it ×100).
 *
 * One deliberate difference: eval_vpq.py adds window areas into the first frame's annotation
 * dict in place, so a segment that first appears mid-window carries an inflated ground-truth
 * area into later, overlapping windows. Areas here are summed afresh for every window.
 */
import { mergePairCounts } from './pair-counts.ts';
import type { FramePair } from './frame-pair.ts';
import type { GroundTruthSegment, PanopticQualityAccumulator, PredictedSegment } from './panoptic-quality.ts';

/** VPSNet's window spans, in video frames. */
export const VPQ_SPANS = [0, 5, 10, 15] as const;

/** Consecutive annotated frames in a window of span `k` (annotations 5 frames apart). */
export const framesInWindow = (k: number): number => k / 5 + 1;

/** Scores every window of `windowLength` frames of one sequence; returns how many there were. */
export function addVideoWindows(frames: readonly FramePair[], windowLength: number, accumulator: PanopticQualityAccumulator): number {
  let windows = 0;
  for (let start = 0; start + windowLength <= frames.length; start++) {
    const window = frames.slice(start, start + windowLength);
    accumulator.add(
      mergePairCounts(window.map((f) => f.pairs)),
      mergeTubes(window.map((f) => f.gt), (a, b) => ({ ...a, area: a.area + b.area })),
      mergeTubes(window.map((f) => f.pred), (a, b) => ({ ...a, area: a.area + b.area })),
    );
    windows++;
  }
  return windows;
}

/** One entry per id over the window: the first frame's, combined with each later frame's. */
function mergeTubes<S extends GroundTruthSegment | PredictedSegment>(
  frames: readonly ReadonlyMap<number, S>[],
  combine: (first: S, later: S) => S,
): Map<number, S> {
  const tubes = new Map<number, S>();
  for (const segments of frames) {
    for (const [id, segment] of segments) {
      const earlier = tubes.get(id);
      tubes.set(id, earlier ? combine(earlier, segment) : segment);
    }
  }
  return tubes;
}
