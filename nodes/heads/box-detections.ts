/**
 * What every box decoder ends with: candidate boxes in model-input pixels, then per-class
 * non-maximum suppression, then the boxes mapped back through the letterbox into frame pixels
 * and clipped to the part of the frame the model saw. Box-only detectors (YOLOX, NanoDet, the
 * YOLO detect head) have no masks; fusion gives them one (nodes/fusion/detection-masks.ts).
 */
import type { ClassSet, Instances } from '../../pipeline/frame.ts';
import type { InputTransform } from '../inference/preprocess.ts';
import type { SliceRegion } from '../inference/slices.ts';
import { nonMaxSuppression } from './non-max-suppression.ts';

export interface DecodeGeometry {
  readonly inputWidth: number;
  readonly inputHeight: number;
  readonly frameWidth: number;
  readonly frameHeight: number;
  /** Frame pixels to input pixels (preprocess.ts; sliceTransform for a slice). */
  readonly transform: InputTransform;
  /** The part of the frame the model saw (a slice); boxes are clipped to it. The whole frame when absent. */
  readonly region?: SliceRegion;
}

export interface BoxDecodeOptions {
  readonly minScore: number;
  readonly iouThreshold: number;
  readonly maxDetections: number;
  /** Class indices to keep; `undefined` keeps all. */
  readonly keepClass?: (classId: number) => boolean;
}

/** Boxes above the score threshold, `[x1, y1, x2, y2]` in input pixels, as a decoder finds them. */
export class BoxCandidates {
  readonly boxes: number[] = [];
  readonly scores: number[] = [];
  readonly classIds: number[] = [];

  add(x1: number, y1: number, x2: number, y2: number, score: number, classId: number): void {
    this.boxes.push(x1, y1, x2, y2);
    this.scores.push(score);
    this.classIds.push(classId);
  }
}

/**
 * The best class of row `at` of a `[rows, stride]` score table (`scores[at * stride + first + c]`)
 * scaled by `gain`, when it reaches `minScore` and is kept; -1 otherwise. Writes the score to
 * `best[0]`.
 */
export function bestClass(
  scores: Float32Array,
  start: number,
  classCount: number,
  gain: number,
  options: BoxDecodeOptions,
  best: Float32Array,
): number {
  let bestClassId = -1;
  let bestScore = options.minScore;
  for (let c = 0; c < classCount; c++) {
    const s = scores[start + c]! * gain;
    if (s >= bestScore) {
      bestScore = s;
      bestClassId = c;
    }
  }
  if (bestClassId >= 0 && options.keepClass && !options.keepClass(bestClassId)) return -1;
  best[0] = bestScore;
  return bestClassId;
}

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * The kept boxes (input pixels, `[x1, y1, x2, y2]` at `kept[k] * 4`) in frame pixels: the
 * letterbox undone and each clipped to the frame, or to the slice it was found in.
 */
export function keptBoxesInFrame(inputBoxes: Float32Array, kept: readonly number[], geometry: DecodeGeometry): Float32Array {
  const t = geometry.transform;
  const region = geometry.region ?? { x: 0, y: 0, width: geometry.frameWidth, height: geometry.frameHeight };
  const right = region.x + region.width;
  const bottom = region.y + region.height;
  const boxes = new Float32Array(kept.length * 4);
  kept.forEach((i, k) => {
    const b = i * 4;
    boxes[k * 4] = clamp((inputBoxes[b]! - t.padX) / t.scaleX, region.x, right);
    boxes[k * 4 + 1] = clamp((inputBoxes[b + 1]! - t.padY) / t.scaleY, region.y, bottom);
    boxes[k * 4 + 2] = clamp((inputBoxes[b + 2]! - t.padX) / t.scaleX, region.x, right);
    boxes[k * 4 + 3] = clamp((inputBoxes[b + 3]! - t.padY) / t.scaleY, region.y, bottom);
  });
  return boxes;
}

export function finishBoxDetections(
  model: string,
  classes: ClassSet,
  candidates: BoxCandidates,
  geometry: DecodeGeometry,
  options: BoxDecodeOptions,
): Instances {
  const inputBoxes = Float32Array.from(candidates.boxes);
  const candidateScores = Float32Array.from(candidates.scores);
  const kept = nonMaxSuppression(
    inputBoxes,
    candidateScores,
    Int32Array.from(candidates.classIds),
    options.iouThreshold,
    options.maxDetections,
  );
  const count = kept.length;
  const boxes = keptBoxesInFrame(inputBoxes, kept, geometry);
  const scores = new Float32Array(count);
  const classIds = new Int32Array(count);
  kept.forEach((i, k) => {
    scores[k] = candidateScores[i]!;
    classIds[k] = candidates.classIds[i]!;
  });
  return { model, count, boxes, scores, classIds, classes, masks: undefined };
}
