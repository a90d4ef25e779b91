/**
 * Everything drawn over the colours: labels (`car #12 0.87`), trails, counting lines and zones
 * with their totals, the crowd heatmap and a corner panel with the stream's fps, latency and
 * drops. Drawn into the frame itself, so every consumer of the JPEG (browser, Foxglove,
 * recording) sees the same picture.
 */
import type { DensityEstimate, FrameAnalytics, Heatmap, PanopticFrame, Segment, TrackedObject } from '../../pipeline/frame.ts';
import type { Box } from '../../lib/geometry/box.ts';
import type { StreamStats } from '../../pipeline/stream-stats.ts';
import type { ZoneDensity } from '../analytics/zone-density.ts';
import { dot, drawPolyline, drawTag, tagRect, type RgbCanvas } from './raster.ts';
import { classColor, displayId, instanceShade, type Rgb } from './segment-colors.ts';

const WHITE: Rgb = [242, 244, 248];
const LINE_COLOR: Rgb = [255, 210, 63];
const ZONE_COLOR: Rgb = [63, 208, 255];

const sum = (counts: Readonly<Record<string, number>>) => Object.values(counts).reduce((a, b) => a + b, 0);

/**
 * `car #12 0.87`; `car ? 0.87` while the track is tentative (not counted yet); `car 0.87`
 * without tracking. The same text in the overlay and in Foxglove's annotations.
 */
export function thingLabel(segment: Segment): string {
  const id = segment.trackId === undefined ? '' : segment.trackState === 'tentative' ? ' ?' : ` #${segment.trackId}`;
  return `${segment.className}${id} ${segment.score.toFixed(2)}`;
}

/** A thing whose box is smaller than this on its longer side is small: a dot marks it. */
const SMALL_THING_PX = 24;
/** With more things than this in the picture, small ones get no label (the panel counts them). */
const CROWDED = 40;

type Rect = readonly [number, number, number, number];
const overlaps = (a: Rect, b: Rect) => a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3];

/**
 * Labels only where they fit, so 150 cars from a drone leave the scene readable (the outlines
 * are drawn with the colours): bigger things first, confirmed before tentative; a label that
 * would cover one already drawn, or a line's or zone's totals (`taken`), is left out; in a
 * crowded picture small things get none. Every
 * small thing gets a dot at its centre, so a car of 8 pixels is seen at a glance. The dashboard
 * shows the label of the thing under the mouse, and the panel counts them all. Returns the
 * rectangles of the labels drawn.
 */
export function drawLabels(canvas: RgbCanvas, panoptic: PanopticFrame, palette: readonly Rgb[] | undefined, taken: readonly Rect[] = []): Rect[] {
  const things = panoptic.segments.filter((s) => s.isThing);
  const small = (s: Segment) => Math.max(s.bbox[2] - s.bbox[0], s.bbox[3] - s.bbox[1]) < SMALL_THING_PX;
  const crowded = things.length > CROWDED;
  const order = [...things].sort((a, b) => Number(a.trackState === 'tentative') - Number(b.trackState === 'tentative') || b.area - a.area);
  const placed: Rect[] = [];
  for (const s of order) {
    const shade = instanceShade(classColor(s.classId, palette), displayId(s));
    if (small(s)) dot(canvas, Math.round((s.bbox[0] + s.bbox[2]) / 2), Math.round((s.bbox[1] + s.bbox[3]) / 2), 4, shade);
    if (crowded && small(s)) continue;
    const text = thingLabel(s);
    const rect = tagRect(canvas, s.bbox[0], s.bbox[1] - 20, text, true);
    if (placed.some((p) => overlaps(p, rect)) || taken.some((t) => overlaps(t, rect))) continue;
    placed.push(rect);
    drawTag(canvas, s.bbox[0], s.bbox[1] - 20, text, WHITE, shade);
  }
  return placed;
}

/** Each track's trail (kept by the tracker), its last `maxPoints` positions at most. */
export function drawTrails(canvas: RgbCanvas, tracks: readonly TrackedObject[], maxPoints: number, palette: readonly Rgb[] | undefined): void {
  for (const t of tracks) {
    const trail = t.trail && t.trail.length > maxPoints ? t.trail.slice(-maxPoints) : t.trail;
    if (trail && trail.length > 1) drawPolyline(canvas, trail, instanceShade(classColor(t.classId, palette), t.trackId), 2);
  }
}

/**
 * A density count as a range, in the glyph atlas's ASCII: `~1024 (likely 758-1290)`. The count
 * is rough (its band is the model's expected error), so the band is never left out.
 */
export function densityText(density: Pick<DensityEstimate, 'count' | 'low' | 'high'>): string {
  return `~${Math.round(density.count)} (likely ${Math.round(density.low)}-${Math.round(density.high)})`;
}

/**
 * Draws the lines and zones with their totals (and, with a density estimate, the people its map
 * puts in each zone, `zoneDensity` in the zones' order); returns the rectangles of the totals'
 * tags, which labels keep clear of.
 */
export function drawLinesAndZones(canvas: RgbCanvas, analytics: FrameAnalytics, zoneDensity?: readonly ZoneDensity[]): Rect[] {
  const tags: Rect[] = [];
  const tag = (x: number, y: number, text: string, color: Rgb) => {
    tags.push(tagRect(canvas, x, y, text, false));
    drawTag(canvas, x, y, text, color);
  };
  const toPixels = (points: readonly (readonly [number, number])[]) =>
    points.map(([x, y]) => [x * canvas.width, y * canvas.height] as const);
  analytics.zones.forEach((zone, i) => {
    const polygon = toPixels(zone.polygon);
    drawPolyline(canvas, polygon, ZONE_COLOR, 2, true);
    const density = zoneDensity?.[i];
    const text = `${zone.name}: ${sum(zone.occupancy)} in, ${sum(zone.entered)} entered${density ? `, density ${densityText(density)}` : ''}`;
    tag(polygon[0]![0], polygon[0]![1] - 22, text, ZONE_COLOR);
  });
  for (const line of analytics.lines) {
    const polyline = toPixels(line.points);
    drawPolyline(canvas, polyline, LINE_COLOR, 3);
    tag(polyline[0]![0], polyline[0]![1] - 22, `${line.name}: in ${sum(line.in)} out ${sum(line.out)}`, LINE_COLOR);
  }
  return tags;
}

/**
 * Warm colours where people have been (or are, for a density map), scaled to the hottest cell,
 * over the whole canvas or over `area` (canvas pixels, far edges exclusive).
 */
export function drawHeatmap(canvas: RgbCanvas, heatmap: Heatmap, opacity = 0.5, area: Box = [0, 0, canvas.width, canvas.height]): void {
  let max = 0;
  for (const v of heatmap.data) if (v > max) max = v;
  if (max <= 0) return;
  const [left, top, right, bottom] = area;
  const areaWidth = right - left;
  const areaHeight = bottom - top;
  const columns = Int32Array.from({ length: areaWidth }, (_, x) => Math.floor((x * heatmap.width) / areaWidth));
  for (let y = 0; y < areaHeight; y++) {
    const row = Math.floor((y * heatmap.height) / areaHeight) * heatmap.width;
    for (let x = 0, o = ((top + y) * canvas.width + left) * 3; x < areaWidth; x++, o += 3) {
      const heat = heatmap.data[row + columns[x]!]! / max;
      if (heat < 0.05) continue;
      const a = Math.round(heat * opacity * 256);
      // Yellow to red as it gets hotter.
      canvas.data[o] = (canvas.data[o]! * (256 - a) + 255 * a) >> 8;
      canvas.data[o + 1] = (canvas.data[o + 1]! * (256 - a) + Math.round(220 * (1 - heat)) * a) >> 8;
      canvas.data[o + 2] = (canvas.data[o + 2]! * (256 - a)) >> 8;
    }
  }
}

/**
 * The corner panel: how fast, how late, how much dropped, what was counted; with a density model,
 * its crowd estimate as a range on the line under the detections' counts:
 * `density ~1024 (likely 758-1290)  0.4 s old`.
 */
export function drawPanel(
  canvas: RgbCanvas,
  stats: StreamStats | undefined,
  counts: Readonly<Record<string, number>>,
  density?: Pick<DensityEstimate, 'count' | 'low' | 'high' | 'ageMs'>,
): void {
  const detected =
    Object.entries(counts)
      .map(([name, n]) => `${name} ${n}`)
      .join('  ') || 'no objects';
  const lines = [
    stats ? `${stats.fps.toFixed(1)} fps  ${Math.round(stats.latencyMs)} ms  dropped ${stats.dropped}` : 'starting',
    detected,
    ...(density ? [`density ${densityText(density)}  ${(density.ageMs / 1000).toFixed(1)} s old`] : []),
  ];
  lines.forEach((text, i) => drawTag(canvas, 6, 6 + i * 21, text, WHITE));
}
