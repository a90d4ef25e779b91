/**
 * Video metrics: STQ against the published deeplab2 test values, and `eval video-panoptic` on a
 * hand-built 3-frame sequence with an id switch, worked out by hand.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evalSegmentationCommand } from '../../../cli/eval-segmentation-command.ts';
import type { VideoPanopticEvalResult } from '../../../evaluation/segmentation/evaluate-video-panoptic.ts';
import type { Category } from '../../../evaluation/segmentation/coco-panoptic-json.ts';
import type { FramePair } from '../../../evaluation/segmentation/frame-pair.ts';
import { PairCounter } from '../../../evaluation/segmentation/pair-counts.ts';
import type { GroundTruthSegment, PredictedSegment } from '../../../evaluation/segmentation/panoptic-quality.ts';
import { StqAccumulator } from '../../../evaluation/segmentation/segmentation-tracking-quality.ts';
import { areaOf, grid, tempFolder, writeJson, writePanopticPng } from './fixtures.ts';

/**
 * A frame in deeplab2's encoding (class and instance per pixel) as COCO segments: each
 * (class, instance) pair becomes segment id class·256 + instance + 1, category = class. A
 * ground-truth thing pixel with instance 0 is deeplab2's crowd: an `iscrowd` segment here.
 */
function deeplabFrame(
  things: readonly number[],
  gt: { semantic: number[]; instance: number[] },
  pred: { semantic: number[]; instance: number[] },
): FramePair {
  const ids = (side: { semantic: number[]; instance: number[] }) =>
    Uint32Array.from(side.semantic, (c, i) => c * 256 + side.instance[i] + 1);
  const gtIds = ids(gt);
  const predIds = ids(pred);
  const segments = <S>(idMap: Uint32Array, make: (category: number, id: number, area: number) => S) => {
    const areas = new Map<number, number>();
    for (const id of idMap) areas.set(id, (areas.get(id) ?? 0) + 1);
    return new Map([...areas].map(([id, area]) => [id, make(Math.floor((id - 1) / 256), id, area)]));
  };
  return {
    pairs: new PairCounter().count(gtIds, predIds),
    gt: segments<GroundTruthSegment>(gtIds, (categoryId, id, area) => ({
      categoryId,
      isCrowd: things.includes(categoryId) && (id - 1) % 256 === 0,
      area,
    })),
    pred: segments<PredictedSegment>(predIds, (categoryId, _id, area) => ({ categoryId, area })),
  };
}

const categoriesOf = (count: number, things: readonly number[]): Map<number, Category> =>
  new Map(Array.from({ length: count }, (_, id) => [id, { id, name: `class${id}`, isThing: things.includes(id) }]));

describe('STQ matches deeplab2', () => {
  it("on deeplab2's complex example (3 frames; sky, vegetation, cars)", () => {
    // From deeplab2 evaluation/numpy/segmentation_and_tracking_quality_test.py, test_complex_example.
    const flat = (rows: string[]) => rows.join('').split('').map(Number);
    const gtSemantic = [
      ['00000000', '00000000', '00020111', '02222111', '22222211', '22222221', '22222221', '22222211'],
      ['00000000', '00000000', '02001100', '22211110', '22221111', '22222111', '22222111', '22221111'],
      ['00000000', '00000000', '00000000', '20111000', '22111100', '22211110', '22211111', '22211111'],
    ];
    const gtInstance = [
      ['00000000', '00000000', '00020000', '02222000', '22222200', '22222220', '22222220', '22222200'],
      ['00000000', '00000000', '02000000', '22200000', '22220000', '22222000', '22222000', '22220000'],
      ['00000000', '00000000', '00000000', '20000000', '22000000', '22200000', '22200000', '22200000'],
    ];
    const predSemantic = [
      ['00000000', '00000000', '00000100', '00022111', '02222211', '22222221', '22222221', '22222221'],
      ['00000000', '00000000', '00001100', '02221111', '22221111', '22222111', '22222211', '22222111'],
      ['00000000', '00000000', '00001000', '00111100', '22211100', '22211111', '22221111', '22221111'],
    ];
    const predInstance = [
      ['00000000', '00000000', '00000000', '00022000', '02222100', '22222110', '22221110', '22221110'],
      ['00000000', '00000000', '00000000', '02220000', '22220000', '22222000', '22221100', '22221000'],
      ['00000000', '00000000', '00000000', '00000000', '22200000', '22200000', '22220000', '22220000'],
    ];
    const stq = new StqAccumulator(categoriesOf(3, [2]));
    for (let f = 0; f < 3; f++) {
      stq.addFrame(
        'seq',
        deeplabFrame(
          [2],
          { semantic: flat(gtSemantic[f]), instance: flat(gtInstance[f]) },
          { semantic: flat(predSemantic[f]), instance: flat(predInstance[f]) },
        ),
      );
    }
    const result = stq.result();
    expect(result.stq).toBeCloseTo(0.66841773352, 9);
    expect(result.aq).toBeCloseTo(0.55366581415, 9);
    expect(result.iou).toBeCloseTo(0.8069529580309542, 9);
    expect(result.perSequence).toEqual([{ sequence: 'seq', frames: 3, stq: result.stq, aq: result.aq, iou: result.iou }]);
  });

  it("on deeplab2's basic examples, crowd included (class 0 car is the thing, 1 sky)", () => {
    const score = (gt: [number[], number[]], pred: [number[], number[]]) => {
      const stq = new StqAccumulator(categoriesOf(2, [0]));
      stq.addFrame('seq', deeplabFrame([0], { semantic: gt[0], instance: gt[1] }, { semantic: pred[0], instance: pred[1] }));
      const { stq: s, aq, iou } = stq.result();
      return [s, aq, iou];
    };
    const expectClose = (actual: number[], expected: number[]) => actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 8));
    // Example 1: one track, predicted as two.
    expectClose(score([[0, 0, 0, 0, 0], [1, 1, 1, 1, 1]], [[0, 0, 0, 0, 0], [1, 1, 2, 2, 2]]), [0.72111026, 0.52, 1.0]);
    // Example 5: the first pixel predicted as sky.
    expectClose(score([[0, 0, 0, 0, 0], [1, 1, 1, 1, 1]], [[1, 0, 0, 0, 0], [0, 1, 1, 1, 1]]), [0.50596443, 0.64, 0.4]);
    // Example 7: the first pixel is crowd.
    expectClose(score([[0, 0, 0, 0, 0, 0], [0, 1, 1, 1, 1, 1]], [[0, 0, 0, 0, 0, 0], [2, 2, 2, 2, 1, 1]]), [0.72111026, 0.52, 1.0]);
    // Example 8: crowd, and a pixel predicted as sky.
    expectClose(score([[0, 0, 0, 0, 0, 0], [0, 1, 1, 1, 1, 1]], [[0, 0, 1, 0, 0, 0], [2, 2, 0, 1, 1, 1]]), [0.40824829, 0.4, 5 / 12]);
  });
});

describe('STQ and void predictions', () => {
  it("counts a void prediction as a miss, and the void column as a class of IoU 0 (deeplab2's confusion matrix)", () => {
    // Ground truth: car 1 on 4 pixels. Prediction: void, then car 1 on 3 pixels.
    const gtIds = Uint32Array.of(1, 1, 1, 1);
    const predIds = Uint32Array.of(0, 1, 1, 1);
    const stq = new StqAccumulator(categoriesOf(1, [0]));
    stq.addFrame('seq', {
      pairs: new PairCounter().count(gtIds, predIds),
      gt: new Map([[1, { categoryId: 0, isCrowd: false, area: 4 }]]),
      pred: new Map([[1, { categoryId: 0, area: 3 }]]),
    });
    const result = stq.result();
    // IoU: car TP 3, FN 1 → 3/4; the void column has a non-empty union (1 pixel) → IoU 0.
    // Mean over 2 → 0.375. AQ: (1/4)·(3·3 / (3 + 4 − 3)) = 9/16.
    expect(result.iou).toBe(0.375);
    expect(result.aq).toBe(9 / 16);
    expect(result.stq).toBeCloseTo(Math.sqrt(0.375 * (9 / 16)), 12);
  });
});

describe('eval video-panoptic', () => {
  let root: string;
  let remove: () => Promise<void>;
  beforeAll(async () => ({ dir: root, remove } = await tempFolder()));
  afterAll(() => remove());

  const CATEGORIES = [
    { id: 1, name: 'road', isthing: 0 },
    { id: 3, name: 'car', isthing: 1 },
  ];

  /** One sequence folder: frames drawn with R = road (id 1), letters → car ids. */
  async function writeSequence(dir: string, frames: string[][], cars: Record<string, number>) {
    const legend = { '.': 0, R: 1, ...cars };
    const annotations = [];
    for (const [index, rows] of frames.entries()) {
      const map = grid(rows, legend);
      const fileName = `${String(index * 5).padStart(6, '0')}.png`;
      await writePanopticPng(path.join(dir, fileName), map);
      const present = Object.entries(legend).filter(([, id]) => id !== 0 && areaOf(map, id) > 0);
      annotations.push({
        image_id: `frame${index}`,
        file_name: fileName,
        segments_info: present.map(([char, id]) => ({ id, category_id: char === 'R' ? 1 : 3, iscrowd: 0, area: areaOf(map, id) })),
      });
    }
    await writeJson(path.join(dir, 'panoptic.json'), { annotations, categories: CATEGORIES });
  }

  it('punishes an id switch for k > 0 only; STQ by hand', async () => {
    // 8x4 frames; the car (8 pixels) does not move. Ground truth keeps id 10 in all three frames;
    // the prediction segments every frame perfectly but switches the car to id 11 in frame 2.
    const frame = (car: string) => ['RRRRRRRR', `RR${car.repeat(4)}RR`, `RR${car.repeat(4)}RR`, 'RRRRRRRR'];
    await writeSequence(path.join(root, 'gt', 'drive'), [frame('A'), frame('A'), frame('A')], { A: 10 });
    await writeSequence(path.join(root, 'pred', 'drive'), [frame('A'), frame('A'), frame('B')], { A: 10, B: 11 });
    let out = '';
    const code = await evalSegmentationCommand('video-panoptic', ['--gt', path.join(root, 'gt'), '--pred', path.join(root, 'pred')], (s) => (out += s));
    expect(code).toBe(0);
    const result = JSON.parse(out) as VideoPanopticEvalResult;
    const span = (k: number) => result.vpqPerSpan.find((s) => s.k === k)!;
    const car = (k: number) => span(k).perClass.find((c) => c.name === 'car')!;

    // k = 0: three 1-frame windows, each perfect → PQ 1 for road and car.
    expect(span(0)).toMatchObject({ framesPerWindow: 1, windows: 3, All: { pq: 1, n: 2 } });
    // k = 5: windows {0,1} and {1,2}. {0,1} is perfect (car TP, IoU 1). In {1,2} the gt tube has
    // 16 pixels, pred tube 10 has 8 and pred tube 11 has 8: IoU 8/16 = 0.5 is not > 0.5 → the gt
    // tube is a FN, the two pred tubes are FPs. car: TP 1 (IoU 1), FP 2, FN 1 → PQ 1/2.5 = 0.4.
    // road is perfect in both windows. All = (1 + 0.4) / 2 = 0.7.
    expect(car(5)).toMatchObject({ tp: 1, fp: 2, fn: 1, sq: 1 });
    expect(car(5).pq).toBeCloseTo(0.4, 12);
    expect(span(5).All.pq).toBeCloseTo(0.7, 12);
    // k = 10: one window {0,1,2}: gt tube 24 pixels, pred tube 10 overlaps 16 → IoU 2/3 → TP;
    // tube 11 (8 pixels) → FP. car PQ = (2/3) / 1.5 = 4/9; All = (1 + 4/9) / 2 = 13/18.
    expect(car(10)).toMatchObject({ tp: 1, fp: 1, fn: 0 });
    expect(car(10).pq).toBeCloseTo(4 / 9, 12);
    // k = 15 needs 4 frames: no window, so no score, and VPQ averages k = 0, 5, 10.
    expect(span(15)).toMatchObject({ windows: 0, All: { pq: null, n: 0 } });
    expect(result.vpq.spans).toEqual([0, 5, 10]);
    expect(result.vpq.All).toBeCloseTo((1 + 0.7 + 13 / 18) / 3, 12);
    expect(result.vpq.Things).toBeCloseTo((1 + 0.4 + 4 / 9) / 3, 12);

    // STQ. AQ: one gt tube (24 pixels) against pred tube 10 (16 pixels, overlap 16) and pred tube
    // 11 (8 pixels, overlap 8): (1/24)·(16·16/24 + 8·8/24) = 320/576 = 5/9. The semantic part
    // is perfect: IoU 1. STQ = √(5/9).
    expect(result.stq.aq).toBeCloseTo(5 / 9, 12);
    expect(result.stq.iou).toBe(1);
    expect(result.stq.stq).toBeCloseTo(Math.sqrt(5 / 9), 12);
    expect(result.sequences).toEqual([{ name: 'drive', frames: 3 }]);
  });

  it('names the missing prediction folder', async () => {
    const frame = ['RR'];
    await writeSequence(path.join(root, 'gt2', 'a'), [frame], {});
    await expect(
      evalSegmentationCommand('video-panoptic', ['--gt', path.join(root, 'gt2'), '--pred', path.join(root, 'pred2')], () => {}),
    ).rejects.toThrow(/--pred .*pred2: sequence "a" has no .*pred2\/a\/panoptic\.json; name each prediction folder like its ground-truth sequence/);
    await expect(evalSegmentationCommand('video-panoptic', ['--gt', path.join(root, 'pred2'), '--pred', root], () => {})).rejects.toThrow(
      /--gt .*pred2: no such folder/,
    );
  });
});
