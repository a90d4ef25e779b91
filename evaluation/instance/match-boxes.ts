/**
 * Boxes of two lists paired one to one, the highest IoU first, each pair at `iouThreshold` or
 * more: how a quality table matches what a person drew with what a run found, and how two runs'
 * things are matched with each other.
 */
import { boxIou, type Box } from '../../lib/geometry/box.ts';

export interface BoxPair {
  /** Index in the first list, index in the second, and their IoU. */
  readonly a: number;
  readonly b: number;
  readonly iou: number;
}

/** The pairs, best first; `compatible` may rule a pair out (another class). */
export function matchBoxes(
  first: readonly Box[],
  second: readonly Box[],
  iouThreshold: number,
  compatible: (a: number, b: number) => boolean = () => true,
): BoxPair[] {
  const candidates: BoxPair[] = [];
  first.forEach((boxA, a) =>
    second.forEach((boxB, b) => {
      if (!compatible(a, b)) return;
      const iou = boxIou(boxA, boxB);
      if (iou >= iouThreshold) candidates.push({ a, b, iou });
    }),
  );
  candidates.sort((x, y) => y.iou - x.iou);
  const takenA = new Uint8Array(first.length);
  const takenB = new Uint8Array(second.length);
  const pairs: BoxPair[] = [];
  for (const pair of candidates) {
    if (takenA[pair.a] || takenB[pair.b]) continue;
    takenA[pair.a] = 1;
    takenB[pair.b] = 1;
    pairs.push(pair);
  }
  return pairs;
}
