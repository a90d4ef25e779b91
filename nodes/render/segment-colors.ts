import type { PanopticFrame, Segment } from '../../pipeline/frame.ts';

export type Rgb = readonly [number, number, number];

/**
 * A shade of the class colour per instance: the same id always gets the same shade, and ids in
 * a row get shades far apart (golden-ratio steps in lightness and a little hue), so two cars side
 * by side are told apart and both still read as "car".
 */
export function instanceShade(classColor: Rgb, id: number): Rgb {
  const [h, s] = rgbToHsl(classColor);
  const step = (id * 0.618033988749895) % 1;
  const hue = (h + (((id * 0.381966) % 1) - 0.5) * 0.08 + 1) % 1;
  return hslToRgb(hue, Math.max(s, 0.55), 0.35 + 0.4 * step);
}

function rgbToHsl([r, g, b]: Rgb): [number, number, number] {
  const [rn, gn, bn] = [r / 255, g / 255, b / 255];
  const max = Math.max(rn, gn, bn);
  const min = Math.min(rn, gn, bn);
  const l = (max + min) / 2;
  if (max === min) return [0, 0, l];
  const d = max - min;
  const s = l > 0.5 ? d / (2 - max - min) : d / (max + min);
  const h = max === rn ? (gn - bn) / d + (gn < bn ? 6 : 0) : max === gn ? (bn - rn) / d + 2 : (rn - gn) / d + 4;
  return [h / 6, s, l];
}

function hslToRgb(h: number, s: number, l: number): Rgb {
  const q = l < 0.5 ? l * (1 + s) : l + s - l * s;
  const p = 2 * l - q;
  const channel = (t: number) => {
    const u = (t + 1) % 1;
    const v = u < 1 / 6 ? p + (q - p) * 6 * u : u < 1 / 2 ? q : u < 2 / 3 ? p + (q - p) * (2 / 3 - u) * 6 : p;
    return Math.round(v * 255);
  };
  return [channel(h + 1 / 3), channel(h), channel(h - 1 / 3)];
}

/** The id an instance is known by: its track id once a tracker runs, else its segment id. */
export function displayId(segment: Segment): number {
  return segment.trackId ?? segment.id;
}

/** A class colour: the palette's, or a stable made-up one for sets without a palette. */
export function classColor(classId: number, palette: readonly Rgb[] | undefined): Rgb {
  return palette?.[classId] ?? hslToRgb((classId * 0.618033988749895) % 1, 0.6, 0.55);
}

/**
 * Colour per segment id as a flat RGB table (`table[id * 3 + k]`), built once per frame so the
 * pixel loop does one lookup per pixel: stuff in its class colour, each thing in its own shade.
 */
export function segmentColorTable(
  panoptic: PanopticFrame,
  palette: readonly Rgb[] | undefined,
  into: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const maxId = panoptic.segments.reduce((m, s) => Math.max(m, s.id), 0);
  const table = into.length >= (maxId + 1) * 3 ? into : new Uint8Array((maxId + 1) * 3 * 2);
  for (const segment of panoptic.segments) {
    const base = classColor(segment.classId, palette);
    table.set(segment.isThing ? instanceShade(base, displayId(segment)) : base, segment.id * 3);
  }
  return table;
}
