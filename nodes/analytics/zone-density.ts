/**
 * A density estimate per zone: the people the crowd-density map puts inside each zone polygon
 * (its calibrated mass on the map cells whose centres lie inside), with the estimate's band. It
 * is shown beside the zone's tracked occupancy in the overlay, the events, the dashboard and
 * Foxglove.
 *
 * Summed once per estimate (the map changes every few frames; between runs every frame carries
 * the same map), whatever the number of sinks that ask: the sums are kept per map.
 */
import type { DensityEstimate } from '../../pipeline/frame.ts';
import type { ZoneTotals } from '../../pipeline/analytics-types.ts';
import { insidePolygon, type Point } from './geometry.ts';

export interface ZoneDensity {
  readonly name: string;
  /** People the density map puts inside the zone (calibrated by the estimate's `scale`). */
  readonly count: number;
  /** `count * (1 - expectedError)` .. `count * (1 + expectedError)`. */
  readonly low: number;
  readonly high: number;
  /**
   * The fraction of the zone's area inside the estimate's region (0..1): the map sees nothing
   * outside it, so a zone half outside is counted for its inside half only.
   */
  readonly covered: number;
}

type Zone = Pick<ZoneTotals, 'name' | 'polygon'>;

/** Per map: the estimate's frame and the sums already made, per zone polygon. */
const sums = new WeakMap<Float32Array, { readonly seq: number; readonly byPolygon: Map<Zone['polygon'], ZoneDensity> }>();

/** The density inside each zone, in the zones' order; summed once per estimate and zone. */
export function zoneDensities(density: DensityEstimate, zones: readonly Zone[]): ZoneDensity[] {
  let kept = sums.get(density.map);
  if (!kept || kept.seq !== density.seq) {
    kept = { seq: density.seq, byPolygon: new Map() };
    sums.set(density.map, kept);
  }
  return zones.map((zone) => {
    let found = kept.byPolygon.get(zone.polygon);
    if (!found || found.name !== zone.name) {
      found = sumZone(density, zone);
      kept.byPolygon.set(zone.polygon, found);
    }
    return found;
  });
}

/** Sums the map over the cells whose centres are inside the zone (normalized frame coordinates). */
export function sumZone(density: DensityEstimate, zone: Zone): ZoneDensity {
  const { map, width, height, region, scale, expectedError } = density;
  const [rx1, ry1, rx2, ry2] = region;
  const polygon = zone.polygon as readonly Point[];
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const [x, y] of polygon) {
    minX = Math.min(minX, x);
    maxX = Math.max(maxX, x);
    minY = Math.min(minY, y);
    maxY = Math.max(maxY, y);
  }
  const cellW = (rx2 - rx1) / width;
  const cellH = (ry2 - ry1) / height;
  // Only the cells of the polygon's bounding box are tested.
  const fromX = Math.max(0, Math.floor((minX - rx1) / cellW));
  const toX = Math.min(width, Math.ceil((maxX - rx1) / cellW));
  const fromY = Math.max(0, Math.floor((minY - ry1) / cellH));
  const toY = Math.min(height, Math.ceil((maxY - ry1) / cellH));
  let sum = 0;
  let cellsInside = 0;
  for (let y = fromY; y < toY; y++) {
    const cy = ry1 + (y + 0.5) * cellH;
    for (let x = fromX; x < toX; x++) {
      if (!insidePolygon([rx1 + (x + 0.5) * cellW, cy], polygon)) continue;
      sum += map[y * width + x]!;
      cellsInside++;
    }
  }
  const count = scale * sum;
  const area = polygonArea(polygon);
  const covered = area > 0 ? Math.min(1, (cellsInside * cellW * cellH) / area) : 0;
  return { name: zone.name, count, low: count * (1 - expectedError), high: count * (1 + expectedError), covered };
}

/** Shoelace area of a simple polygon, in the units of its points squared. */
function polygonArea(polygon: readonly Point[]): number {
  let twice = 0;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) twice += polygon[j]![0] * polygon[i]![1] - polygon[i]![0] * polygon[j]![1];
  return Math.abs(twice) / 2;
}
