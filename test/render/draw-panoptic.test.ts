/**
 * drawPanoptic against its rules, pixel by pixel: void keeps the video, every other pixel mixes
 * with its segment's colour at `alpha`, and a thing pixel whose 4-neighbour (inside the frame)
 * belongs to another segment is its outline, drawn solid. The rules are written out below as
 * plainly as possible and compared with the run-based drawing on a busy segment map.
 */
import { describe, expect, it } from 'vitest';
import { drawPanoptic } from '../../nodes/render/draw-panoptic.ts';
import type { PanopticFrame } from '../../pipeline/frame.ts';
import { noise } from '../helpers/noise.ts';
import { testClassSet } from '../helpers/panoptic.ts';

const W = 37;
const H = 23;

/** Void (0), two stuff segments (1 top, 2 bottom) and things 3..6 as overlapping rectangles. */
function segmentMap(): Uint32Array {
  const map = new Uint32Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) map[y * W + x] = y < 4 ? 0 : y < 12 ? 1 : 2;
  const things: [number, number, number, number, number][] = [
    [3, 0, 0, 6, 5], // touches the top-left corner: no outline along the frame's edge
    [4, 10, 8, 20, 16],
    [5, 15, 10, 30, 20], // overlaps thing 4
    [6, 33, 18, 37, 23], // the bottom-right corner
  ];
  for (const [id, x1, y1, x2, y2] of things) for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) map[y * W + x] = id;
  map[2 * W + 20] = 6; // a single-pixel thing in the void band
  return map;
}

function reference(frame: Uint8Array, map: Uint32Array, colors: Uint8Array, isThing: Uint8Array, alpha: number, contours: boolean): Uint8Array {
  const out = new Uint8Array(frame.length);
  const a = Math.round(alpha * 256);
  const at = (x: number, y: number) => (x < 0 || y < 0 || x >= W || y >= H ? undefined : map[y * W + x]);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const seg = map[y * W + x]!;
      const neighbours = [at(x - 1, y), at(x + 1, y), at(x, y - 1), at(x, y + 1)].filter((n) => n !== undefined);
      const outline = contours && isThing[seg] === 1 && neighbours.some((n) => n !== seg);
      for (let c = 0; c < 3; c++) {
        const o = (y * W + x) * 3 + c;
        if (seg === 0) out[o] = frame[o]!;
        else if (outline) out[o] = colors[seg * 3 + c]!;
        else out[o] = (frame[o]! * (256 - a) + colors[seg * 3 + c]! * a) >> 8;
      }
    }
  }
  return out;
}

describe('drawPanoptic', () => {
  const frame = noise(W * H * 3, 7);
  const map = segmentMap();
  const colors = noise(7 * 3, 11);
  const isThing = Uint8Array.of(0, 0, 0, 1, 1, 1, 1);
  const panoptic: PanopticFrame = { width: W, height: H, classMap: new Uint8Array(W * H), segmentMap: map, segments: [], classes: testClassSet([]) };

  for (const contours of [true, false]) {
    it(`follows the rules pixel by pixel (contours: ${contours})`, () => {
      const out = new Uint8Array(W * H * 3);
      drawPanoptic(frame, panoptic, colors, isThing, { alpha: 0.45, contours }, out);
      expect(out).toEqual(reference(frame, map, colors, isThing, 0.45, contours));
    });
  }

  it('draws the outline solid and the inside mixed, and leaves void alone', () => {
    const out = new Uint8Array(W * H * 3);
    drawPanoptic(frame, panoptic, colors, isThing, { alpha: 0.45, contours: true }, out);
    const pixel = (x: number, y: number) => Array.from(out.subarray((y * W + x) * 3, (y * W + x) * 3 + 3));
    const color = (id: number) => Array.from(colors.subarray(id * 3, id * 3 + 3));
    expect(pixel(10, 8)).toEqual(color(4)); // corner of thing 4
    expect(pixel(12, 10)).not.toEqual(color(4)); // inside it
    expect(pixel(20, 2)).toEqual(color(6)); // the single-pixel thing is all outline
    expect(pixel(30, 1)).toEqual(Array.from(frame.subarray((W + 30) * 3, (W + 30) * 3 + 3))); // void
  });
});
