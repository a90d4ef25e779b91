import type { Segment } from '../../pipeline/frame.ts';

/** Number of thing instances per class name in one frame, e.g. `{ car: 3, person: 1 }`. */
export function thingCounts(segments: readonly Segment[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const segment of segments) {
    if (segment.isThing) counts[segment.className] = (counts[segment.className] ?? 0) + 1;
  }
  return counts;
}
