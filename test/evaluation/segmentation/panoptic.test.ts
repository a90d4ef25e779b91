/**
 * `eval panoptic` on hand-drawn COCO panoptic maps, one case per rule of the COCO panoptic API.
 * Each expected value is worked out in the comment above it.
 *
 * Categories: 1 road (stuff), 2 sky (stuff), 3 car (thing), 4 person (thing), 5 truck (thing,
 * never present: it must be null per class and left out of every mean).
 * In the drawings '.' is void (id 0); the other letters are segments, listed per case.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evalSegmentationCommand } from '../../../cli/eval-segmentation-command.ts';
import type { PanopticEvalResult } from '../../../evaluation/segmentation/evaluate-panoptic.ts';
import type { PqClassScores } from '../../../evaluation/segmentation/panoptic-quality.ts';
import type { SemanticEvalResult } from '../../../evaluation/segmentation/evaluate-semantic.ts';
import { areaOf, grid, tempFolder, writeGreyPng, writeJson, writePanopticPng } from './fixtures.ts';

const CATEGORIES = [
  { id: 1, name: 'road', isthing: 0 },
  { id: 2, name: 'sky', isthing: 0 },
  { id: 3, name: 'car', isthing: 1 },
  { id: 4, name: 'person', isthing: 1 },
  { id: 5, name: 'truck', isthing: 1 },
];

/** A drawn map: letters → [segment id, category id, iscrowd]. */
interface Side {
  readonly rows: string[];
  readonly segments: Record<string, readonly [number, number, (0 | 1)?]>;
}

let root: string;
let remove: () => Promise<void>;
beforeAll(async () => ({ dir: root, remove } = await tempFolder()));
afterAll(() => remove());

async function writeSide(dir: string, json: string, images: { file: string; side: Side }[], categories: unknown[]) {
  const annotations = [];
  for (const [index, { file, side }] of images.entries()) {
    const legend: Record<string, number> = { '.': 0 };
    for (const [char, [id]] of Object.entries(side.segments)) legend[char] = id;
    const map = grid(side.rows, legend);
    await writePanopticPng(path.join(dir, file), map);
    annotations.push({
      image_id: index,
      file_name: file,
      segments_info: Object.values(side.segments).map(([id, category, crowd]) => ({
        id,
        category_id: category,
        iscrowd: crowd ?? 0,
        area: areaOf(map, id),
      })),
    });
  }
  await writeJson(json, { images: images.map(({ file }, id) => ({ id, file_name: file })), annotations, categories });
}

/** Writes one case (one or more images); returns the four paths `eval panoptic` takes. */
async function writeCase(name: string, images: { file?: string; gt: Side; pred: Side }[], predCategories: unknown[] = CATEGORIES) {
  const at = (...parts: string[]) => path.join(root, name, ...parts);
  const named = images.map((image, i) => ({ ...image, file: image.file ?? `image${i}.png` }));
  await writeSide(at('gt'), at('gt.json'), named.map(({ file, gt }) => ({ file, side: gt })), CATEGORIES);
  await writeSide(at('pred'), at('pred.json'), named.map(({ file, pred }) => ({ file, side: pred })), predCategories);
  return ['--gt-json', at('gt.json'), '--gt-dir', at('gt'), '--pred-json', at('pred.json'), '--pred-dir', at('pred')];
}

async function evalPanoptic(args: string[]): Promise<PanopticEvalResult> {
  let out = '';
  expect(await evalSegmentationCommand('panoptic', args, (s) => (out += s))).toBe(0);
  return JSON.parse(out) as PanopticEvalResult;
}

const byName = (result: PanopticEvalResult, name: string): PqClassScores => result.perClass.find((c) => c.name === name)!;

describe('eval panoptic', () => {
  it('a perfect match scores 1, and classes never present are null and left out', async () => {
    const side: Side = {
      rows: ['RRRRRRRR', 'RRCCRRRR', 'RRCCRRRR', 'SSSSSSSS'],
      segments: { R: [1, 1], C: [2, 3], S: [3, 2] },
    };
    const result = await evalPanoptic(await writeCase('perfect', [{ gt: side, pred: side }]));
    // road, sky and car: one TP each with IoU 1. person and truck: no TP, FP or FN.
    expect(result.All).toEqual({ pq: 1, sq: 1, rq: 1, n: 3 });
    expect(result.Things).toEqual({ pq: 1, sq: 1, rq: 1, n: 1 });
    expect(result.Stuff).toEqual({ pq: 1, sq: 1, rq: 1, n: 2 });
    expect(byName(result, 'truck')).toMatchObject({ pq: null, sq: null, rq: null, tp: 0, fp: 0, fn: 0 });
    expect(byName(result, 'car')).toMatchObject({ pq: 1, tp: 1, iouSum: 1 });
  });

  it('a split: the larger part matches, the smaller one is a false positive', async () => {
    const args = await writeCase('split', [
      {
        gt: { rows: ['RRRRRRRR', 'CCCCCCCC'], segments: { R: [1, 1], C: [2, 3] } },
        pred: { rows: ['RRRRRRRR', 'AAAAABBB'], segments: { R: [1, 1], A: [5, 3], B: [6, 3] } },
      },
    ]);
    const result = await evalPanoptic(args);
    // car: A covers 5 of the 8 gt pixels, IoU 5/8 = 0.625 > 0.5 → TP. B (3 pixels, IoU 3/8) → FP.
    // PQ = 0.625 / (1 + ½·1) = 0.41667, SQ = 0.625, RQ = 1 / 1.5. road: IoU 1.
    expect(byName(result, 'car')).toMatchObject({ tp: 1, fp: 1, fn: 0, sq: 0.625 });
    expect(byName(result, 'car').pq).toBeCloseTo(0.625 / 1.5, 12);
    expect(byName(result, 'car').rq).toBeCloseTo(1 / 1.5, 12);
    expect(result.All.pq).toBeCloseTo((1 + 0.625 / 1.5) / 2, 12);
    expect(result.Things.pq).toBeCloseTo(0.625 / 1.5, 12);
    expect(result.Stuff).toEqual({ pq: 1, sq: 1, rq: 1, n: 1 });
  });

  it('a merge: the prediction matches the larger object, the other is a false negative', async () => {
    const args = await writeCase('merge', [
      {
        gt: { rows: ['RRRRRRRRRR', 'CCCCCCDDDD'], segments: { R: [1, 1], C: [2, 3], D: [3, 3] } },
        pred: { rows: ['RRRRRRRRRR', 'MMMMMMMMMM'], segments: { R: [1, 1], M: [7, 3] } },
      },
    ]);
    const result = await evalPanoptic(args);
    // M against C: 6 / 10 = 0.6 → TP. Against D: 4 / 10 → no match, D is a FN.
    // PQ = 0.6 / (1 + ½·1) = 0.4, SQ 0.6, RQ 2/3.
    expect(byName(result, 'car')).toMatchObject({ tp: 1, fp: 0, fn: 1, sq: 0.6 });
    expect(byName(result, 'car').pq).toBeCloseTo(0.4, 12);
  });

  it('void: a prediction mostly on void is not a false positive, exactly half is; void leaves the union', async () => {
    const args = await writeCase('void', [
      {
        gt: {
          rows: ['RRRR....', 'RRRR....', 'RRRRRRRR', 'RRRRRRRR'],
          segments: { R: [1, 1] },
        },
        pred: {
          rows: ['RRRRR.PQ', 'RRRR.PPQ', 'RRRRRPRQ', 'RRRRRRRQ'],
          segments: { R: [1, 1], P: [9, 4], Q: [10, 4] },
        },
      },
    ]);
    const result = await evalPanoptic(args);
    // P: 4 pixels, 3 on void → 3/4 > ½: ignored. Q: 4 pixels, 2 on void → 2/4 is not > ½: FP.
    // road: gt 24 pixels; pred 22 pixels of which 1 on void, 21 on gt road.
    // IoU = 21 / (22 + 24 − 21 − 1) = 21/24 = 0.875 (21/25 if void stayed in the union).
    expect(byName(result, 'person')).toMatchObject({ tp: 0, fp: 1, fn: 0, pq: 0, sq: 0, rq: 0 });
    expect(byName(result, 'road')).toMatchObject({ tp: 1, sq: 0.875, pq: 0.875 });
    // person counts in the means with PQ 0.
    expect(result.All).toMatchObject({ pq: 0.4375, n: 2 });
    expect(result.Things).toEqual({ pq: 0, sq: 0, rq: 0, n: 1 });
  });

  it('crowd: never matched, never a FN, and excuses predictions of its own category only', async () => {
    const args = await writeCase('crowd', [
      {
        gt: {
          rows: ['RRRRRRRR', 'RKKKKRCC', 'RKKKKRCC', 'RRRRRRRR'],
          segments: { R: [1, 1], K: [20, 3, 1], C: [2, 3] },
        },
        pred: {
          rows: ['RRRRRRRR', 'RAAAAPCC', 'RAAPPPCC', 'RRRRRRRR'],
          segments: { R: [1, 1], A: [30, 3], P: [31, 4], C: [2, 3] },
        },
      },
    ]);
    const result = await evalPanoptic(args);
    // A (car, 6 pixels, all on the car crowd K): cannot match a crowd, and 6/6 on its category's
    // crowd → not a FP. K is not a FN. C matches exactly → car: TP 1, IoU 1.
    // P (person, 4 pixels, 2 on the *car* crowd, 2 on road): the car crowd does not excuse a
    // person → FP. road: pred 18 pixels all on gt road (20 pixels) → IoU 0.9.
    expect(byName(result, 'car')).toMatchObject({ tp: 1, fp: 0, fn: 0, pq: 1 });
    expect(byName(result, 'person')).toMatchObject({ tp: 0, fp: 1, fn: 0, pq: 0 });
    expect(byName(result, 'road').pq).toBeCloseTo(0.9, 12);
    expect(result.All.pq).toBeCloseTo((0.9 + 1 + 0) / 3, 12);
    expect(result.Things).toEqual({ pq: 0.5, sq: 0.5, rq: 0.5, n: 2 });
  });

  it('sums TP, FP, FN and IoU over images before taking PQ per class', async () => {
    const road: Side = { rows: ['RRRR'], segments: { R: [1, 1] } };
    const args = await writeCase('two-images', [
      { gt: road, pred: road },
      // Second image: road predicted as sky → road FN, sky FP.
      { gt: road, pred: { rows: ['SSSS'], segments: { S: [4, 2] } } },
    ]);
    const result = await evalPanoptic(args);
    // road: TP 1 (IoU 1) + FN 1 → PQ 1 / 1.5. sky: FP 1 → PQ 0.
    expect(byName(result, 'road')).toMatchObject({ tp: 1, fn: 1 });
    expect(byName(result, 'road').pq).toBeCloseTo(2 / 3, 12);
    expect(result.Stuff.pq).toBeCloseTo(1 / 3, 12);
    expect(result.images).toBe(2);
  });

  it('matches categories by name with --categories-by-name', async () => {
    // The prediction numbers classes its own way (0-based), as the panoptic-png sink does.
    const ownIds = [{ id: 0, name: 'road', isthing: 0 }, { id: 7, name: 'car', isthing: 1 }];
    const args = await writeCase(
      'by-name',
      [
        {
          gt: { rows: ['RRCC'], segments: { R: [1, 1], C: [2, 3] } },
          pred: { rows: ['RRCC'], segments: { R: [1, 0], C: [2, 7] } },
        },
      ],
      ownIds,
    );
    await expect(evalPanoptic(args)).rejects.toThrow(/segment 1 has category 0, which is not a ground-truth category .*--categories-by-name/);
    expect((await evalPanoptic([...args, '--categories-by-name'])).All).toEqual({ pq: 1, sq: 1, rq: 1, n: 2 });
  });

  it('checks the prediction as panopticapi does, naming the file', async () => {
    const side: Side = { rows: ['RRCC'], segments: { R: [1, 1], C: [2, 3] } };
    const args = await writeCase('checks', [{ gt: side, pred: side }]);
    const predJson = args[5];
    const predict = (segmentsInfo: unknown[], imageId = 0, fileName = 'image0.png') =>
      writeJson(predJson, { annotations: [{ image_id: imageId, file_name: fileName, segments_info: segmentsInfo }] });

    // The PNG holds ids 1 and 2; the JSON lists only 1.
    await predict([{ id: 1, category_id: 1 }]);
    await expect(evalPanoptic(args)).rejects.toThrow(/image0\.png: segment id 2 \(2 pixels\) is in the PNG but not in the prediction JSON/);
    await predict([{ id: 1, category_id: 1 }, { id: 2, category_id: 3 }, { id: 9, category_id: 3 }]);
    await expect(evalPanoptic(args)).rejects.toThrow(/segment id 9 is in the prediction JSON's segments_info for image0\.png but has no pixel in the PNG/);
    await predict([], 5, 'other.png');
    await expect(evalPanoptic(args)).rejects.toThrow(/no prediction for the ground-truth image 0 \(image0\.png\)/);
    await predict([{ id: 'one' }]);
    await expect(evalPanoptic(args)).rejects.toThrow(/--pred-json .*: not a COCO panoptic JSON file:\n {2}annotations\[0\]\.segments_info\[0\]\.id/);
    // Back to a valid prediction: the check passes.
    await predict([{ id: 1, category_id: 1 }, { id: 2, category_id: 3 }]);
    expect((await evalPanoptic(args)).All.pq).toBe(1);
  });
});

describe('eval semantic and eval panoptic agree', () => {
  it('on stuff only: per-class IoU equals the SQ of the one matched segment (IoU > 0.5)', async () => {
    // Classes 0 road, 1 sky, 2 building; '#' is void (255 in label maps, id 0 in panoptic PNGs).
    const gtRows = ['SSSSSSSS', 'BBBBSSSS', 'BBBB####', 'RRRRRRRR'];
    const predRows = ['SSSSSSSB', 'BBBSSSSS', 'BBBBBB##', 'RRRRRRRB'];
    const classOf = { R: 0, S: 1, B: 2, '#': 255 };
    const dir = path.join(root, 'agree');
    await writeGreyPng(path.join(dir, 'labels-gt', 'a.png'), grid(gtRows, classOf));
    await writeGreyPng(path.join(dir, 'labels-pred', 'a.png'), grid(predRows, classOf));
    const semanticOut: string[] = [];
    await evalSegmentationCommand(
      'semantic',
      ['--gt', path.join(dir, 'labels-gt'), '--pred', path.join(dir, 'labels-pred'), '--classes', '3', '--ignore', '255'],
      (s) => semanticOut.push(s),
    );
    const semantic = JSON.parse(semanticOut.join('')) as SemanticEvalResult;

    // The same maps as panoptic: one stuff segment per class, id = category = class + 1.
    const stuff = (rows: string[]): Side => ({ rows: rows.map((r) => r.replaceAll('#', '.')), segments: { R: [1, 1], S: [2, 2], B: [3, 6] } });
    const categories = [{ id: 1, name: 'road', isthing: 0 }, { id: 2, name: 'sky', isthing: 0 }, { id: 6, name: 'building', isthing: 0 }];
    const at = (...parts: string[]) => path.join(dir, ...parts);
    await writeSide(at('gt'), at('gt.json'), [{ file: 'a.png', side: stuff(gtRows) }], categories);
    await writeSide(at('pred'), at('pred.json'), [{ file: 'a.png', side: stuff(predRows) }], categories);
    const panoptic = await evalPanoptic(['--gt-json', at('gt.json'), '--pred-json', at('pred.json')]);

    // By hand (void pixels out): sky TP 11, FP 1, FN 1 → 11/13; building TP 7, FP 2, FN 1 → 7/10
    // (its 2 predicted pixels on void leave the panoptic union too); road TP 7, FN 1 → 7/8.
    expect(semantic.perClass.map((c) => c.iou)).toEqual([7 / 8, 11 / 13, 7 / 10]);
    expect(panoptic.perClass.map((c) => c.sq)).toEqual([7 / 8, 11 / 13, 7 / 10]);
    // One matched segment per class: PQ = SQ and RQ = 1, so mIoU = PQ(Stuff) as well.
    expect(panoptic.Stuff.pq).toBeCloseTo(semantic.mIoU!, 12);
    // (They part ways when a class's IoU is ≤ 0.5: semantic IoU stays, PQ counts a FP and a FN.)
  });
});
