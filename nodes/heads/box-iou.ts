/** Intersection over union of boxes `i` and `j` of an `[x1, y1, x2, y2]` array. */
export function boxIou(boxes: Float32Array, i: number, j: number): number {
  const a = i * 4;
  const b = j * 4;
  const w = Math.min(boxes[a + 2]!, boxes[b + 2]!) - Math.max(boxes[a]!, boxes[b]!);
  const h = Math.min(boxes[a + 3]!, boxes[b + 3]!) - Math.max(boxes[a + 1]!, boxes[b + 1]!);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const areaA = (boxes[a + 2]! - boxes[a]!) * (boxes[a + 3]! - boxes[a + 1]!);
  const areaB = (boxes[b + 2]! - boxes[b]!) * (boxes[b + 3]! - boxes[b + 1]!);
  return inter / (areaA + areaB - inter);
}
