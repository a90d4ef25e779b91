/**
 * Pieces of one thing: a car of 40 pixels seen by its background model often comes apart (a
 * windscreen as dark as the road between a bright bonnet and roof), while a car of 10 pixels is
 * one blob. Pieces whose boxes lie within `gap` times the smaller piece's longer side of each
 * other are joined, so one setting holds a car together at either size: the allowance grows
 * with the pieces, and a speck beside a car joins it only by touching.
 */
import type { Blob } from './connected-components.ts';

export interface BlobGroup {
  /** The pieces' labels in the label map. */
  readonly labels: readonly number[];
  readonly area: number;
  /** Bounds of all the pieces, far edges exclusive. */
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

const longerSide = (b: Blob) => Math.max(b.x2 - b.x1, b.y2 - b.y1);

/** Empty space between two boxes, the larger of across and down (0 when they touch or overlap). */
function boxGap(a: Blob, b: Blob): number {
  const across = Math.max(a.x1, b.x1) - Math.min(a.x2, b.x2);
  const down = Math.max(a.y1, b.y1) - Math.min(a.y2, b.y2);
  return Math.max(0, across, down);
}

export function joinPieces(pieces: readonly Blob[], gap: number): BlobGroup[] {
  const single = (p: Blob): BlobGroup => ({ labels: [p.label], area: p.area, x1: p.x1, y1: p.y1, x2: p.x2, y2: p.y2 });
  if (gap <= 0 || pieces.length < 2) return pieces.map(single);
  const parent = pieces.map((_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  // A sweep from left to right: only pieces starting before this one's reach can be joined to it.
  const order = pieces.map((_, i) => i).sort((a, b) => pieces[a]!.x1 - pieces[b]!.x1);
  for (let k = 0; k < order.length; k++) {
    const a = pieces[order[k]!]!;
    const reach = a.x2 + gap * longerSide(a);
    for (let m = k + 1; m < order.length && pieces[order[m]!]!.x1 <= reach; m++) {
      const b = pieces[order[m]!]!;
      if (boxGap(a, b) <= gap * Math.min(longerSide(a), longerSide(b))) parent[root(order[k]!)] = root(order[m]!);
    }
  }
  const groups = new Map<number, { labels: number[]; area: number; x1: number; y1: number; x2: number; y2: number }>();
  pieces.forEach((p, i) => {
    const r = root(i);
    const group = groups.get(r);
    if (!group) {
      groups.set(r, { labels: [p.label], area: p.area, x1: p.x1, y1: p.y1, x2: p.x2, y2: p.y2 });
      return;
    }
    group.labels.push(p.label);
    group.area += p.area;
    group.x1 = Math.min(group.x1, p.x1);
    group.y1 = Math.min(group.y1, p.y1);
    group.x2 = Math.max(group.x2, p.x2);
    group.y2 = Math.max(group.y2, p.y2);
  });
  return [...groups.values()];
}
