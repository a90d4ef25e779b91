/**
 * COCO run-length encoding: strings and counts round trips, masks and pixel runs to RLE, merging
 * and overlaps, polygons against the same mask as RLE. (The mask API's own outputs, byte for
 * byte, are checked in test/evaluation/instance/pycocotools-agreement.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import {
  checkedRle,
  decodeRleCounts,
  encodeRleCounts,
  rleArea,
  rleBbox,
  rleFromColumnMajor,
  rleFromPolygon,
  rleFromRuns,
  rleOverlap,
  rleToColumnMajor,
  rleToJson,
  rleUnion,
} from '../../lib/formats/coco-rle.ts';
import { segmentationToRle } from '../../lib/formats/coco-instances.ts';
import { segmentRuns } from '../../lib/geometry/pixel-runs.ts';
import type { Box } from '../../lib/geometry/box.ts';

/** A seeded generator, so failures repeat. */
function random(seed: number): () => number {
  return () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function randomMask(next: () => number, height: number, width: number, density: number): Uint8Array {
  const mask = new Uint8Array(height * width);
  // Blobs rather than noise, so runs have lengths of all sizes.
  let on = next() < density;
  for (let i = 0; i < mask.length; i++) {
    if (next() < 0.1) on = next() < density;
    mask[i] = on ? 1 : 0;
  }
  return mask;
}

/** A row-major mask as column-major, as COCO reads masks. */
function transpose(rowMajor: Uint8Array, height: number, width: number): Uint8Array {
  const columnMajor = new Uint8Array(rowMajor.length);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) columnMajor[x * height + y] = rowMajor[y * width + x]!;
  return columnMajor;
}

describe('compressed RLE strings', () => {
  it('writes the mask API\'s string for a 2x2 mask', () => {
    // [[1, 0], [1, 1]] column by column is 1 1 0 1: counts 0 2 1 1; the fourth is written as 1 - 2 = -1.
    const rle = rleFromColumnMajor(Uint8Array.from([1, 1, 0, 1]), 2, 2);
    expect(Array.from(rle.counts)).toEqual([0, 2, 1, 1]);
    expect(rleToJson(rle)).toEqual({ size: [2, 2], counts: '021O' });
  });

  it('round-trips counts of every size, with differences of both signs', () => {
    const next = random(3);
    for (let trial = 0; trial < 200; trial++) {
      const n = Math.floor(next() * 40);
      const scale = [1, 30, 1000, 1e6, 2 ** 31][trial % 5]!;
      const counts = Array.from({ length: n }, () => Math.floor(next() * scale));
      const text = encodeRleCounts(counts);
      expect(text).toMatch(/^[0-o]*$/);
      expect(Array.from(decodeRleCounts(text))).toEqual(counts);
    }
    expect(encodeRleCounts([])).toBe('');
    expect(Array.from(decodeRleCounts(''))).toEqual([]);
  });

  it('refuses what is not a compressed RLE', () => {
    expect(() => decodeRleCounts('0 2', 'x')).toThrow(/x: character " " at 1 is not one of a compressed RLE/);
    // '`' is 48 + 48: a group with "more" set, and nothing after it.
    expect(() => decodeRleCounts('0`', 'x')).toThrow(/x: the string ends inside a number/);
    expect(() => checkedRle(2, 2, Uint32Array.from([1, 2]), 'x')).toThrow(/x: the counts cover 3 pixels but the size 2x2 has 4/);
  });
});

describe('masks and RLE', () => {
  it('round-trips masks, strings and all (uncompressed and compressed read alike)', () => {
    const next = random(5);
    for (let trial = 0; trial < 50; trial++) {
      const height = 1 + Math.floor(next() * 40);
      const width = 1 + Math.floor(next() * 40);
      const mask = randomMask(next, height, width, [0, 0.3, 1][trial % 3]!);
      const rle = rleFromColumnMajor(mask, height, width);
      expect(rleToColumnMajor(rle)).toEqual(mask);
      expect(rleArea(rle)).toBe(mask.reduce((n, v) => n + v, 0));
      const json = rleToJson(rle);
      const fromString = segmentationToRle(json, 0, 0, 'compressed');
      const fromList = segmentationToRle({ size: [height, width], counts: Array.from(rle.counts) }, 0, 0, 'uncompressed');
      expect(fromString).toEqual(rle);
      expect(fromList).toEqual(rle);
    }
  });

  it('encodes pixel runs exactly as it encodes the same mask', () => {
    const next = random(11);
    for (let trial = 0; trial < 40; trial++) {
      const height = 1 + Math.floor(next() * 30);
      const width = 1 + Math.floor(next() * 30);
      // A segment map with a few segments, and each segment's runs and box.
      const map = new Uint32Array(height * width);
      let id = 0;
      for (let i = 0; i < map.length; i++) {
        if (next() < 0.15) id = Math.floor(next() * 4);
        map[i] = id;
      }
      const ids = [1, 2, 3];
      segmentRuns(map, width, ids).forEach((runs, k) => {
        const rowMajor = Uint8Array.from(map, (v) => (v === ids[k] ? 1 : 0));
        let [x1, y1, x2, y2] = [width, height, 0, 0];
        rowMajor.forEach((v, p) => {
          if (!v) return;
          const x = p % width;
          const y = Math.floor(p / width);
          [x1, y1, x2, y2] = [Math.min(x1, x), Math.min(y1, y), Math.max(x2, x + 1), Math.max(y2, y + 1)];
        });
        const box: Box = x2 > x1 ? [x1, y1, x2, y2] : [0, 0, 0, 0];
        expect(rleFromRuns(runs, width, height, box)).toEqual(rleFromColumnMajor(transpose(rowMajor, height, width), height, width));
      });
    }
  });

  it('finds the box of the pixels, whole columns when a run wraps into the next', () => {
    // 4x3 (h x w): column 0 rows 2-3 and column 1 row 0: one run wrapping from column 0 to 1.
    const wrapped = rleFromColumnMajor(Uint8Array.from([0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]), 4, 3);
    expect(rleBbox(wrapped)).toEqual([0, 0, 2, 4]);
    const square = rleFromColumnMajor(Uint8Array.from([0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0]), 4, 3);
    expect(rleBbox(square)).toEqual([1, 1, 2, 2]);
    expect(rleBbox(rleFromColumnMajor(new Uint8Array(12), 4, 3))).toEqual([0, 0, 0, 0]);
  });

  it('merges masks into their union and counts overlaps as the masks do', () => {
    const next = random(17);
    for (let trial = 0; trial < 30; trial++) {
      const [height, width] = [1 + Math.floor(next() * 20), 1 + Math.floor(next() * 20)];
      const a = randomMask(next, height, width, 0.4);
      const b = randomMask(next, height, width, 0.4);
      const c = randomMask(next, height, width, 0.2);
      const union = rleUnion([a, b, c].map((m) => rleFromColumnMajor(m, height, width)));
      expect(rleToColumnMajor(union)).toEqual(a.map((v, i) => v | b[i]! | c[i]!));
      // The union is in canonical form: what encoding the mask gives.
      expect(union).toEqual(rleFromColumnMajor(rleToColumnMajor(union), height, width));
      const both = a.reduce((n, v, i) => n + (v & b[i]!), 0);
      const either = a.reduce((n, v, i) => n + (v | b[i]!), 0);
      expect(rleOverlap(rleFromColumnMajor(a, height, width), rleFromColumnMajor(b, height, width))).toEqual({ intersection: both, union: either });
    }
  });
});

describe('polygons', () => {
  it('rasterizes a rectangle on whole pixels to exactly its pixels', () => {
    const rle = rleFromPolygon([10, 10, 20, 10, 20, 16, 10, 16], 30, 40);
    expect(rleArea(rle)).toBe(60);
    expect(rleBbox(rle)).toEqual([10, 10, 10, 6]);
    const mask = rleToColumnMajor(rle);
    expect(mask[10 * 30 + 10]).toBe(1); // x 10, y 10
    expect(mask[19 * 30 + 15]).toBe(1); // x 19, y 15
    expect(mask[20 * 30 + 15]).toBe(0); // x 20: outside
    expect(mask[19 * 30 + 16]).toBe(0); // y 16: outside
  });

  it('gives the same mask as a polygon and as the RLE written from it', () => {
    const polygon = [20.5, 10, 70, 15.25, 80, 60, 45, 85, 12, 50];
    const fromPolygon = segmentationToRle([polygon], 100, 90, 'polygon');
    const asString = rleToJson(fromPolygon);
    const fromString = segmentationToRle(asString, 100, 90, 'rle');
    expect(fromString).toEqual(fromPolygon);
    expect(rleOverlap(fromPolygon, fromString)).toEqual({ intersection: rleArea(fromPolygon), union: rleArea(fromPolygon) });
    // Two polygons of one annotation are one mask, their union.
    const two = segmentationToRle([polygon, [0, 0, 10, 0, 10, 10, 0, 10]], 100, 90, 'two polygons');
    expect(rleArea(two)).toBe(rleArea(fromPolygon) + 100);
  });

  it('clips a polygon to the image', () => {
    const rle = rleFromPolygon([-10, -10, 5, -10, 5, 5, -10, 5], 10, 10);
    expect(rleArea(rle)).toBe(25);
    expect(rleBbox(rle)).toEqual([0, 0, 5, 5]);
  });
});
