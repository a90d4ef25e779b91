/** Plane geometry for lines and zones, in pixels (x right, y down). */

export type Point = readonly [number, number];

/** Normalized (0..1) points to pixels of a `width x height` frame. */
export function toPixels(points: readonly Point[], width: number, height: number): Point[] {
  return points.map(([x, y]) => [x * width, y * height]);
}

/** Ray casting: whether `p` is inside the polygon (edges count as inside half the time, as usual). */
export function insidePolygon(p: Point, polygon: readonly Point[]): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i]!;
    const [xj, yj] = polygon[j]!;
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** 1 for every pixel whose centre is inside the polygon: a zone's raster, made once per frame size. */
export function rasterizePolygon(polygon: readonly Point[], width: number, height: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  const crossings: number[] = [];
  for (let y = 0; y < height; y++) {
    const cy = y + 0.5;
    crossings.length = 0;
    for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
      const [xi, yi] = polygon[i]!;
      const [xj, yj] = polygon[j]!;
      if (yi > cy !== yj > cy) crossings.push(((xj - xi) * (cy - yi)) / (yj - yi) + xi);
    }
    crossings.sort((a, b) => a - b);
    for (let k = 0; k + 1 < crossings.length; k += 2) {
      const from = Math.max(0, Math.ceil(crossings[k]! - 0.5));
      const to = Math.min(width, Math.ceil(crossings[k + 1]! - 0.5));
      mask.fill(1, y * width + from, y * width + to);
    }
  }
  return mask;
}

/** Unit vectors of the screen directions a line's `in` can be named by. */
export const DIRECTIONS = { down: [0, 1], up: [0, -1], right: [1, 0], left: [-1, 0] } as const satisfies Record<string, Point>;

/**
 * Which side of a polyline a point is on, as +1 (the side `inDirection` points to), -1 (the
 * other side) or 0 (beyond the polyline's ends, where a crossing means nothing).
 */
export function sideOfPolyline(p: Point, polyline: readonly Point[], inDirection: Point): -1 | 0 | 1 {
  let best = Infinity;
  let side: -1 | 0 | 1 = 0;
  for (let i = 0; i + 1 < polyline.length; i++) {
    const [ax, ay] = polyline[i]!;
    const [bx, by] = polyline[i + 1]!;
    const dx = bx - ax;
    const dy = by - ay;
    const lengthSquared = dx * dx + dy * dy;
    if (lengthSquared === 0) continue;
    const t = ((p[0] - ax) * dx + (p[1] - ay) * dy) / lengthSquared;
    const clamped = Math.min(1, Math.max(0, t));
    const distance = Math.hypot(p[0] - (ax + clamped * dx), p[1] - (ay + clamped * dy));
    if (distance >= best) continue;
    best = distance;
    const beyondEnd = (i === 0 && t < 0) || (i === polyline.length - 2 && t > 1);
    if (beyondEnd) {
      side = 0;
      continue;
    }
    // Positive cross product: the side the left-hand normal (-dy, dx) points to.
    const cross = dx * (p[1] - ay) - dy * (p[0] - ax);
    const inSign = Math.sign(-dy * inDirection[0] + dx * inDirection[1]) || 1;
    side = cross === 0 ? 0 : ((Math.sign(cross) * inSign) as -1 | 1);
  }
  return side;
}
