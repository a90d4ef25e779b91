/**
 * `eval instance` against pycocotools' own figures, on COCO files generated with a fixed seed
 * (fixtures/make-pycocotools-cases.py: polygons, compressed and uncompressed RLE, crowd regions,
 * area fields off from the mask area, score ties, images and categories without ground truth,
 * more than 100 detections in an image, results with masks and boxes, masks only, boxes only),
 * and the mask API's own polygon rasterizations, strings and boxes.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { evaluateInstanceFiles } from '../../../evaluation/instance/evaluate.ts';
import { parseCocoInstances, parseCocoResults } from '../../../lib/formats/coco-instances.ts';
import {
  decodeRleCounts,
  encodeRleCounts,
  rleArea,
  rleBbox,
  rleFromPolygon,
  rleFromXywh,
  type CocoRle,
} from '../../../lib/formats/coco-rle.ts';
import type { XywhBox } from '../../../lib/geometry/box.ts';

const STATS = ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl'] as const;
type Figures = Record<(typeof STATS)[number], number> & { perCategory: { id: number; AP: number; AP50: number }[] };

interface Fixture {
  cases: { name: string; gt: unknown; results: unknown; expected: { bbox: Figures; segm: Figures } }[];
  maskApi: {
    polygons: { polygon?: number[]; box?: XywhBox; height: number; width: number; counts: string; area: number; bbox: number[] }[];
    strings: { uncompressed: { size: [number, number]; counts: number[] }; compressed: { size: [number, number]; counts: string }; bbox: number[] }[];
  };
}

const fixture = JSON.parse(
  readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/pycocotools-cases.json'), 'utf8'),
) as Fixture;

describe('eval instance agrees with pycocotools', () => {
  for (const c of fixture.cases) {
    for (const iouType of ['segm', 'bbox'] as const) {
      it(`${c.name}, ${iouType}`, () => {
        const report = evaluateInstanceFiles(parseCocoInstances(c.gt, c.name), parseCocoResults(c.results, c.name), iouType);
        const expected = c.expected[iouType];
        for (const stat of STATS) expect(report[stat], stat).toBeCloseTo(expected[stat], 10);
        expect(report.perCategory.map((p) => p.id)).toEqual(expected.perCategory.map((p) => p.id));
        report.perCategory.forEach((p, k) => {
          expect(p.AP, `AP of category ${p.id}`).toBeCloseTo(expected.perCategory[k]!.AP, 10);
          expect(p.AP50, `AP50 of category ${p.id}`).toBeCloseTo(expected.perCategory[k]!.AP50, 10);
        });
      });
    }
  }
});

describe('the mask API, as pycocotools computes it', () => {
  it('rasterizes polygons and boxes pixel for pixel', () => {
    for (const sample of fixture.maskApi.polygons) {
      const rle: CocoRle = sample.box
        ? rleFromXywh(sample.box, sample.height, sample.width)
        : rleFromPolygon(sample.polygon!, sample.height, sample.width);
      expect(encodeRleCounts(rle.counts)).toBe(sample.counts);
      expect(rleArea(rle)).toBe(sample.area);
      expect(rleBbox(rle)).toEqual(sample.bbox);
    }
  });

  it('writes and reads compressed strings as pycocotools does, and finds the same boxes', () => {
    for (const sample of fixture.maskApi.strings) {
      expect(encodeRleCounts(sample.uncompressed.counts)).toBe(sample.compressed.counts);
      expect(Array.from(decodeRleCounts(sample.compressed.counts))).toEqual(sample.uncompressed.counts);
      const [height, width] = sample.compressed.size;
      expect(rleBbox({ height, width, counts: decodeRleCounts(sample.compressed.counts) })).toEqual(sample.bbox);
    }
  });
});
