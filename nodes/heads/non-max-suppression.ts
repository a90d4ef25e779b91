import { boxIou } from '../../lib/geometry/box.ts';

/**
 * Greedy per-class non-maximum suppression: walks boxes from the highest score down and keeps
 * a box unless a kept box of the same class overlaps it by more than `iouThreshold`.
 *
 * @param boxes `[x1, y1, x2, y2]` per box.
 * @param scores One score per box.
 * @param classIds One class per box; boxes of different classes never suppress each other.
 * @param limit Stop after this many kept boxes.
 * @returns Indices of the kept boxes, highest score first.
 */
export function nonMaxSuppression(
  boxes: Float32Array,
  scores: Float32Array,
  classIds: Int32Array,
  iouThreshold: number,
  limit = Number.POSITIVE_INFINITY,
): number[] {
  const order = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]!);
  const kept: number[] = [];
  for (const candidate of order) {
    if (kept.length >= limit) break;
    const suppressed = kept.some(
      (k) => classIds[k] === classIds[candidate] && boxIou(boxes, boxes, k * 4, candidate * 4) > iouThreshold,
    );
    if (!suppressed) kept.push(candidate);
  }
  return kept;
}
