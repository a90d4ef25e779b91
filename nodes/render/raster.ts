/**
 * Drawing on an RGB24 frame in place: rectangles, thick lines, text. Integer maths on typed
 * arrays, clipped to the frame, no allocation per call beyond the arguments.
 */
import { GLYPHS } from './glyph-atlas.ts';
import type { Rgb } from './segment-colors.ts';

export interface RgbCanvas {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** Mixes `color` over the rectangle with opacity `alpha` (0..1). */
export function blendRect(canvas: RgbCanvas, x: number, y: number, w: number, h: number, color: Rgb, alpha: number): void {
  const x0 = Math.max(0, Math.round(x));
  const y0 = Math.max(0, Math.round(y));
  const x1 = Math.min(canvas.width, Math.round(x + w));
  const y1 = Math.min(canvas.height, Math.round(y + h));
  const a = Math.round(alpha * 256);
  const keep = 256 - a;
  const [r, g, b] = color;
  for (let yy = y0; yy < y1; yy++) {
    for (let o = (yy * canvas.width + x0) * 3, end = (yy * canvas.width + x1) * 3; o < end; o += 3) {
      canvas.data[o] = (canvas.data[o]! * keep + r * a) >> 8;
      canvas.data[o + 1] = (canvas.data[o + 1]! * keep + g * a) >> 8;
      canvas.data[o + 2] = (canvas.data[o + 2]! * keep + b * a) >> 8;
    }
  }
}

/** A solid square of side `size` centred on (x, y): the brush of thick lines, and the mark of a small thing. */
export function dot(canvas: RgbCanvas, x: number, y: number, size: number, color: Rgb): void {
  const half = size >> 1;
  const x0 = Math.max(0, x - half);
  const y0 = Math.max(0, y - half);
  const x1 = Math.min(canvas.width, x - half + size);
  const y1 = Math.min(canvas.height, y - half + size);
  for (let yy = y0; yy < y1; yy++) {
    for (let o = (yy * canvas.width + x0) * 3, end = (yy * canvas.width + x1) * 3; o < end; o += 3) {
      canvas.data[o] = color[0];
      canvas.data[o + 1] = color[1];
      canvas.data[o + 2] = color[2];
    }
  }
}

/** A line `thickness` pixels wide from (x0, y0) to (x1, y1) (Bresenham with a square brush). */
export function drawLine(canvas: RgbCanvas, x0: number, y0: number, x1: number, y1: number, color: Rgb, thickness = 1): void {
  let x = Math.round(x0);
  let y = Math.round(y0);
  const xEnd = Math.round(x1);
  const yEnd = Math.round(y1);
  const dx = Math.abs(xEnd - x);
  const dy = -Math.abs(yEnd - y);
  const sx = x < xEnd ? 1 : -1;
  const sy = y < yEnd ? 1 : -1;
  let error = dx + dy;
  for (;;) {
    dot(canvas, x, y, thickness, color);
    if (x === xEnd && y === yEnd) return;
    const e2 = 2 * error;
    if (e2 >= dy) {
      error += dy;
      x += sx;
    }
    if (e2 <= dx) {
      error += dx;
      y += sy;
    }
  }
}

export function drawPolyline(canvas: RgbCanvas, points: readonly (readonly [number, number])[], color: Rgb, thickness: number, closed = false): void {
  for (let i = 0; i + 1 < points.length; i++) {
    drawLine(canvas, points[i]![0], points[i]![1], points[i + 1]![0], points[i + 1]![1], color, thickness);
  }
  if (closed && points.length > 2) {
    const first = points[0]!;
    const last = points[points.length - 1]!;
    drawLine(canvas, last[0], last[1], first[0], first[1], color, thickness);
  }
}

/** Width in pixels of `text` in the built-in font. */
export function textWidth(text: string): number {
  return text.length * GLYPHS.cellWidth;
}

export const TEXT_HEIGHT = GLYPHS.cellHeight;

/** Draws `text` with its top-left corner at (x, y); characters outside printable ASCII show as '?'. */
export function drawText(canvas: RgbCanvas, x: number, y: number, text: string, color: Rgb): void {
  const { cellWidth, cellHeight, first, last, coverage } = GLYPHS;
  const left = Math.round(x);
  const top = Math.round(y);
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code < first || code > last) code = 63; // '?'
    const glyph = (code - first) * cellWidth * cellHeight;
    const gx = left + i * cellWidth;
    for (let row = 0; row < cellHeight; row++) {
      const py = top + row;
      if (py < 0 || py >= canvas.height) continue;
      for (let col = 0; col < cellWidth; col++) {
        const px = gx + col;
        const a = coverage[glyph + row * cellWidth + col]!;
        if (a === 0 || px < 0 || px >= canvas.width) continue;
        const o = (py * canvas.width + px) * 3;
        const keep = 255 - a;
        canvas.data[o] = (canvas.data[o]! * keep + color[0] * a) / 255;
        canvas.data[o + 1] = (canvas.data[o + 1]! * keep + color[1] * a) / 255;
        canvas.data[o + 2] = (canvas.data[o + 2]! * keep + color[2] * a) / 255;
      }
    }
  }
}

/** Where {@link drawTag} puts `text` asked at (x, y): `[left, top, width, height]`, kept inside the frame. */
export function tagRect(canvas: RgbCanvas, x: number, y: number, text: string, swatch: boolean): readonly [number, number, number, number] {
  const pad = 3;
  const w = textWidth(text) + (swatch ? 8 + pad : 0) + pad * 2;
  const h = TEXT_HEIGHT + pad * 2;
  return [Math.max(0, Math.min(Math.round(x), canvas.width - w)), Math.max(0, Math.min(Math.round(y), canvas.height - h)), w, h];
}

/** Text on a dark box, kept inside the frame: labels, counts, the stats panel. */
export function drawTag(canvas: RgbCanvas, x: number, y: number, text: string, color: Rgb, swatch?: Rgb): void {
  const pad = 3;
  const swatchWidth = swatch ? 8 + pad : 0;
  const [left, top, w, h] = tagRect(canvas, x, y, text, swatch !== undefined);
  blendRect(canvas, left, top, w, h, [12, 14, 18], 0.78);
  if (swatch) blendRect(canvas, left + pad, top + (h - 8) / 2, 8, 8, swatch, 1);
  drawText(canvas, left + pad + swatchWidth, top + pad, text, color);
}
