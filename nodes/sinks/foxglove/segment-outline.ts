/**
 * The outline of a segment as polygons, for clients that draw masks themselves (Foxglove has no
 * mask type, only polygons).
 *
 * The outline runs along pixel edges, not through pixel centres, so a filled rectangle of pixels
 * `[x, y, w, h]` comes out as exactly its four corners `(x, y) .. (x + w, y + h)`, in the same
 * coordinates as Foxglove's (origin at the top-left corner of the top-left pixel). Each
 * 8-connected piece of the segment gets its own polygon (an occluded car can be cut in two);
 * holes are not traced, since a filled polygon cannot show them anyway.
 */
import { runsMask } from '../../../lib/geometry/pixel-runs.ts';
import type { Segment } from '../../../pipeline/frame.ts';

export type Point = readonly [number, number];

export interface OutlineOptions {
  /** Vertices may move this far (pixels) to drop the staircase of pixel edges. */
  readonly tolerancePx: number;
  /** Pieces smaller than this (pixels) are specks: skipped, unless the segment has nothing larger. */
  readonly minPiecePixels: number;
  /** At most this many vertices per polygon: the tolerance grows until it fits. */
  readonly maxVertices: number;
}

export const DEFAULT_OUTLINE_OPTIONS: OutlineOptions = { tolerancePx: 1, minPiecePixels: 16, maxVertices: 256 };

/** Walking directions E, S, W, N: each is the previous one turned clockwise on screen (y down). */
const DX = [1, 0, -1, 0] as const;
const DY = [0, 1, 0, -1] as const;
/** The pixel ahead and to the left of a vertex, per direction, as an offset from the vertex. */
const AHEAD_LEFT_X = [0, 0, -1, -1] as const;
const AHEAD_LEFT_Y = [-1, 0, 0, -1] as const;
/** The pixel ahead and to the right. */
const AHEAD_RIGHT_X = [0, -1, -1, 0] as const;
const AHEAD_RIGHT_Y = [0, 0, -1, -1] as const;

/** Outer outlines of `segment`'s pixels (its runs in a `frameWidth`-wide map), largest piece first, in frame pixels. */
export function segmentOutlines(frameWidth: number, segment: Segment, options: OutlineOptions = DEFAULT_OUTLINE_OPTIONS): Point[][] {
  // 0 outside, 1 inside and not yet traced, 2 inside and traced.
  const { x: x0, y: y0, width, height, data: mask } = runsMask(segment.runs, frameWidth, segment.bbox);
  if (width <= 0 || height <= 0) return [];

  const pieces: { points: Point[]; area: number }[] = [];
  const stack = new Int32Array(width * height);
  for (let start = 0; start < mask.length; start++) {
    if (mask[start] !== 1) continue;
    const sx = start % width;
    const sy = (start - sx) / width;
    const corners = traceOuterBoundary(mask, width, height, sx, sy);
    const area = markPiece(mask, width, height, start, stack);
    pieces.push({ points: corners.map(([x, y]) => [x + x0, y + y0] as const), area });
  }
  pieces.sort((a, b) => b.area - a.area);
  return pieces
    .filter((piece, i) => i === 0 || piece.area >= options.minPiecePixels)
    .map((piece) => simplifyToFit(piece.points, options));
}

/**
 * Corners of the outer boundary of the piece whose first pixel in raster order is (sx, sy),
 * walking pixel edges with the piece on the right (clockwise on screen). At each vertex the two
 * pixels ahead decide the turn; turning left first makes diagonal neighbours one piece
 * (8-connectivity), like {@link markPiece}.
 */
function traceOuterBoundary(mask: Uint8Array, width: number, height: number, sx: number, sy: number): Point[] {
  const inside = (x: number, y: number) => x >= 0 && y >= 0 && x < width && y < height && mask[y * width + x] !== 0;
  const corners: Point[] = [];
  // The first pixel in raster order has nothing above it: its top edge, walked east, is outline.
  let vx = sx + 1;
  let vy = sy;
  let direction = 0;
  // Each directed pixel edge is walked at most once; the bound only guards against a bug.
  const maxSteps = 4 * (width + 1) * (height + 1);
  for (let step = 0; step < maxSteps; step++) {
    const turn = inside(vx + AHEAD_LEFT_X[direction]!, vy + AHEAD_LEFT_Y[direction]!)
      ? 3
      : inside(vx + AHEAD_RIGHT_X[direction]!, vy + AHEAD_RIGHT_Y[direction]!)
        ? 0
        : 1;
    if (turn !== 0) {
      corners.push([vx, vy]);
      direction = (direction + turn) % 4;
    }
    if (vx === sx && vy === sy && direction === 0) return corners;
    vx += DX[direction]!;
    vy += DY[direction]!;
  }
  throw new Error(`outline of the piece at (${sx}, ${sy}) did not close`);
}

/** Marks the 8-connected piece holding pixel `start` as traced; returns its pixel count. */
function markPiece(mask: Uint8Array, width: number, height: number, start: number, stack: Int32Array): number {
  let top = 0;
  let area = 0;
  stack[top++] = start;
  mask[start] = 2;
  while (top > 0) {
    const index = stack[--top]!;
    area++;
    const x = index % width;
    const y = (index - x) / width;
    for (let ny = Math.max(0, y - 1); ny <= Math.min(height - 1, y + 1); ny++) {
      for (let nx = Math.max(0, x - 1); nx <= Math.min(width - 1, x + 1); nx++) {
        const neighbour = ny * width + nx;
        if (mask[neighbour] !== 1) continue;
        mask[neighbour] = 2;
        stack[top++] = neighbour;
      }
    }
  }
  return area;
}

/** Douglas-Peucker on the closed polygon, loosening the tolerance until it has few enough vertices. */
function simplifyToFit(polygon: readonly Point[], options: OutlineOptions): Point[] {
  let tolerance = options.tolerancePx;
  let simplified = simplifyClosed(polygon, tolerance);
  while (simplified.length > options.maxVertices) {
    tolerance *= 2;
    simplified = simplifyClosed(polygon, tolerance);
  }
  return simplified;
}

function simplifyClosed(polygon: readonly Point[], tolerance: number): Point[] {
  if (polygon.length <= 4) return [...polygon];
  // Split the loop at vertex 0 and the vertex farthest from it: two open chains that both keep
  // their ends, so the polygon cannot collapse.
  let far = 0;
  let farthest = -1;
  for (let i = 1; i < polygon.length; i++) {
    const d = (polygon[i]![0] - polygon[0]![0]) ** 2 + (polygon[i]![1] - polygon[0]![1]) ** 2;
    if (d > farthest) {
      farthest = d;
      far = i;
    }
  }
  const keep = new Uint8Array(polygon.length);
  keep[0] = 1;
  keep[far] = 1;
  markKept(polygon, 0, far, tolerance, keep);
  markKept(polygon, far, polygon.length, tolerance, keep);
  return polygon.filter((_, i) => keep[i] === 1);
}

/** Marks the vertices of the chain `from..to` (index `to` wraps to 0) that Douglas-Peucker keeps. */
function markKept(polygon: readonly Point[], from: number, to: number, tolerance: number, keep: Uint8Array): void {
  const ranges: [number, number][] = [[from, to]];
  while (ranges.length > 0) {
    const [a, b] = ranges.pop()!;
    if (b - a < 2) continue;
    const [ax, ay] = polygon[a]!;
    const [bx, by] = polygon[b % polygon.length]!;
    const length = Math.hypot(bx - ax, by - ay);
    let worst = -1;
    let worstDistance = tolerance;
    for (let i = a + 1; i < b; i++) {
      const [px, py] = polygon[i]!;
      const distance = length === 0 ? Math.hypot(px - ax, py - ay) : Math.abs((bx - ax) * (ay - py) - (ax - px) * (by - ay)) / length;
      if (distance > worstDistance) {
        worstDistance = distance;
        worst = i;
      }
    }
    if (worst < 0) continue;
    keep[worst] = 1;
    ranges.push([a, worst], [worst, b]);
  }
}
