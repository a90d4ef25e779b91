import type { PanopticFrame, Segment } from '../../pipeline/frame.ts';

export type Rgb = readonly [number, number, number];

/** A colour per instance that stays the same for the same id and differs between neighbours. */
export function instanceColor(id: number): Rgb {
  // Golden-ratio steps around the hue circle keep consecutive ids far apart.
  const hue = (id * 0.618033988749895) % 1;
  return hsvToRgb(hue, 0.7, 0.95);
}

function hsvToRgb(h: number, s: number, v: number): Rgb {
  const i = Math.floor(h * 6);
  const f = h * 6 - i;
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  const [r, g, b] = [
    [v, t, p],
    [q, v, p],
    [p, v, t],
    [p, q, v],
    [t, p, v],
    [v, p, q],
  ][i % 6]!;
  return [Math.round(r! * 255), Math.round(g! * 255), Math.round(b! * 255)];
}

/** The id an instance is known by: its track id once a tracker runs, else its segment id. */
export function displayId(segment: Segment): number {
  return segment.trackId ?? segment.id;
}

/**
 * Colour per segment id as a flat RGB table (`table[id * 3 + k]`), built once per frame so the
 * pixel loop does one lookup per pixel: stuff in its class colour, each thing in its own colour.
 */
export function segmentColorTable(
  panoptic: PanopticFrame,
  palette: readonly Rgb[] | undefined,
  into: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const maxId = panoptic.segments.reduce((m, s) => Math.max(m, s.id), 0);
  const table = into.length >= (maxId + 1) * 3 ? into : new Uint8Array((maxId + 1) * 3 * 2);
  for (const segment of panoptic.segments) {
    const color = segment.isThing ? instanceColor(displayId(segment)) : (palette?.[segment.classId] ?? instanceColor(segment.classId));
    table.set(color, segment.id * 3);
  }
  return table;
}
