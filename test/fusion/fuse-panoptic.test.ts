/**
 * Fusion invariants on hand-built inputs small enough to check by eye. The frame is 8x4 pixels;
 * the semantic map is given at the same size, so no scaling is involved unless a test says so.
 */
import { describe, expect, it } from 'vitest';
import { fusePanoptic, LabelScaler, type FusionClasses } from '../../nodes/fusion/fuse-panoptic.ts';
import { VOID_CLASS, type InstanceMask, type Instances, type SemanticLabels } from '../../pipeline/frame.ts';
import { testClassSet } from '../helpers/panoptic.ts';

// Panoptic classes: 0 road (stuff), 1 sky (stuff), 2 person, 3 rider, 4 car (things), 5 void, 6 bicycle (thing).
const NAMES = ['road', 'sky', 'person', 'rider', 'car', 'background', 'bicycle'];
const SET = testClassSet(NAMES, ['person', 'rider', 'car', 'bicycle'], { voids: ['background'] });
const CLASSES: FusionClasses = {
  ...SET,
  // Instance classes: 0 person, 1 car, 2 dog (ignored), 3 bicycle.
  instanceToPanoptic: Int32Array.from([2, 4, -1, 6]),
  person: 2,
  rider: 3,
  ridden: [6],
};
const INSTANCE_CLASSES = testClassSet(['person', 'car', 'dog', 'bicycle'], ['person', 'car', 'dog', 'bicycle']);
const W = 8;
const H = 4;

function semantic(rows: string[], width = W, height = H): SemanticLabels {
  // One digit per pixel, a row per string.
  const labels = Uint8Array.from(rows.join('').split('').map(Number));
  expect(labels.length).toBe(width * height);
  return { model: 'test', width, height, labels, classes: SET };
}

function mask(x: number, y: number, rows: string[]): InstanceMask {
  return { x, y, width: rows[0]!.length, height: rows.length, data: Uint8Array.from(rows.join('').split('').map(Number)) };
}

function instances(list: { classId: number; score: number; mask: InstanceMask }[]): Instances {
  return {
    model: 'test',
    count: list.length,
    boxes: Float32Array.from(list.flatMap((d) => [d.mask.x, d.mask.y, d.mask.x + d.mask.width, d.mask.y + d.mask.height])),
    scores: Float32Array.from(list.map((d) => d.score)),
    classIds: Int32Array.from(list.map((d) => d.classId)),
    classes: INSTANCE_CLASSES,
    masks: list.map((d) => d.mask),
  };
}

function fuse(sem: SemanticLabels, inst: Instances | undefined, minArea = 1, minVisibleFraction = 0.5) {
  const out = { classMap: new Uint8Array(W * H), segmentMap: new Uint32Array(W * H) };
  const { segments } = fusePanoptic(W, H, sem, inst, CLASSES, { minArea, minVisibleFraction }, out, new LabelScaler());
  return { ...out, segments };
}

/** Checks what must hold for every fusion: one class and one segment per pixel, consistently. */
function expectConsistent(result: ReturnType<typeof fuse>) {
  const byId = new Map(result.segments.map((s) => [s.id, s]));
  expect(byId.size).toBe(result.segments.length);
  expect(byId.has(0)).toBe(false);
  const area = new Map<number, number>();
  for (let p = 0; p < W * H; p++) {
    const id = result.segmentMap[p]!;
    if (id === 0) {
      expect(result.classMap[p]).toBe(VOID_CLASS);
      continue;
    }
    expect(byId.get(id)?.classId).toBe(result.classMap[p]);
    area.set(id, (area.get(id) ?? 0) + 1);
  }
  for (const segment of result.segments) {
    expect(area.get(segment.id)).toBe(segment.area);
    expect(segment.isThing).toBe(CLASSES.isThing[segment.classId]);
    // The runs fusion hands on are exactly the segment's pixels, inside its box.
    const fromRuns: number[] = [];
    for (let r = 0; r < segment.runs.length; r += 2) for (let p = segment.runs[r]!; p < segment.runs[r + 1]!; p++) fromRuns.push(p);
    const fromMap = [...result.segmentMap.keys()].filter((p) => result.segmentMap[p] === segment.id);
    expect(fromRuns).toEqual(fromMap);
    const [x1, y1, x2, y2] = segment.bbox;
    expect(fromRuns.every((p) => p % W >= x1 && p % W < x2 && Math.floor(p / W) >= y1 && Math.floor(p / W) < y2)).toBe(true);
    expect(fromRuns.some((p) => p % W === x1) && fromRuns.some((p) => p % W === x2 - 1)).toBe(true);
    expect(fromRuns.some((p) => Math.floor(p / W) === y1) && fromRuns.some((p) => Math.floor(p / W) === y2 - 1)).toBe(true);
  }
}

const classRows = (result: ReturnType<typeof fuse>) =>
  Array.from({ length: H }, (_, y) =>
    Array.from(result.classMap.subarray(y * W, (y + 1) * W), (c) => (c === VOID_CLASS ? '.' : String(c))).join(''),
  );

describe('fusePanoptic', () => {
  const sky_road = semantic(['11111111', '11111111', '00000000', '00000000']);

  it('stuff only: one segment per stuff class, covering every pixel', () => {
    const result = fuse(sky_road, undefined);
    expectConsistent(result);
    expect(result.segments.map((s) => [s.className, s.area, s.bbox])).toEqual([
      ['road', 16, [0, 2, 8, 4]],
      ['sky', 16, [0, 0, 8, 2]],
    ]);
  });

  it('things win over stuff where they overlap', () => {
    const car = mask(2, 1, ['111', '111']);
    const result = fuse(sky_road, instances([{ classId: 1, score: 0.9, mask: car }]));
    expectConsistent(result);
    expect(classRows(result)).toEqual(['11111111', '11444111', '00444000', '00000000']);
    const thing = result.segments.find((s) => s.isThing)!;
    expect(thing).toMatchObject({ id: 1, className: 'car', area: 6, bbox: [2, 1, 5, 3], score: expect.closeTo(0.9, 6) });
  });

  it('the higher score wins where two instances overlap, whatever their order', () => {
    const left = mask(1, 0, ['1111', '1111']);
    const right = mask(3, 0, ['1111', '1111']);
    const result = fuse(
      sky_road,
      instances([
        { classId: 1, score: 0.6, mask: left },
        { classId: 1, score: 0.8, mask: right },
      ]),
    );
    expectConsistent(result);
    const [first, second] = result.segments.filter((s) => s.isThing);
    // Ids follow score order: the 0.8 car is segment 1 and keeps the shared column x=3..4.
    expect(first).toMatchObject({ id: 1, area: 8, bbox: [3, 0, 7, 2] });
    expect(second).toMatchObject({ id: 2, area: 4, bbox: [1, 0, 3, 2] });
    expect(result.segmentMap[3]).toBe(1);
  });

  it('drops an instance mostly hidden behind a higher-scoring one', () => {
    const big = mask(0, 0, ['1111', '1111']);
    const hidden = mask(1, 0, ['1111', '1111']); // 6 of its 8 pixels are taken
    const result = fuse(
      sky_road,
      instances([
        { classId: 1, score: 0.9, mask: big },
        { classId: 1, score: 0.5, mask: hidden },
      ]),
    );
    expectConsistent(result);
    expect(result.segments.filter((s) => s.isThing)).toHaveLength(1);
    // Its two visible pixels went back to stuff.
    expect(result.classMap[4]).toBe(1);
  });

  it('drops segments below the minimum area: a small thing gives its pixels back, small stuff turns void', () => {
    const tiny = mask(0, 3, ['11']);
    const sem = semantic(['00000000', '00000000', '00000000', '00000001']);
    const result = fuse(sem, instances([{ classId: 0, score: 0.9, mask: tiny }]), 3);
    expectConsistent(result);
    expect(result.segments.map((s) => s.className)).toEqual(['road']);
    // The 2-pixel person is road again; the sky class, 1 pixel in all, is void.
    expect(classRows(result)[3]).toBe('0000000.');
  });

  it('thing pixels no instance claims, void classes and ignored instance classes are void', () => {
    const sem = semantic(['11111111', '11444111', '00444005', '00000005']);
    const dog = mask(0, 2, ['11', '11']);
    const result = fuse(sem, instances([{ classId: 2, score: 0.99, mask: dog }]));
    expectConsistent(result);
    expect(classRows(result)).toEqual(['11111111', '11...111', '00...00.', '0000000.']);
    expect(result.segments.some((s) => s.isThing)).toBe(false);
  });

  it('a person on rider pixels stays a person unless a detected bicycle is under it', () => {
    const sem = semantic(['11133111', '11133111', '00033000', '00000000']);
    const person = mask(3, 0, ['11', '11']);
    // Beside a bicycle (boxes apart): the semantic model's "rider" does not relabel the detector's person.
    const beside = fuse(sem, instances([{ classId: 0, score: 0.9, mask: person }, { classId: 3, score: 0.8, mask: mask(6, 2, ['11']) }]));
    expectConsistent(beside);
    expect(beside.segments.filter((s) => s.isThing).map((s) => s.className)).toEqual(['person', 'bicycle']);
    // On it (the bicycle's box overlaps the person's): a rider.
    const riding = fuse(sem, instances([{ classId: 0, score: 0.9, mask: person }, { classId: 3, score: 0.8, mask: mask(3, 1, ['11', '11']) }]));
    expectConsistent(riding);
    expect(riding.segments.filter((s) => s.isThing).map((s) => s.className)).toEqual(['rider', 'bicycle']);
    // No bicycle at all: a person.
    expect(fuse(sem, instances([{ classId: 0, score: 0.9, mask: person }])).segments.find((s) => s.isThing)?.className).toBe('person');
  });

  it('scales a smaller semantic map to the frame by nearest neighbour', () => {
    const half = semantic(['1111', '0000'], 4, 2);
    const result = fuse(half, undefined);
    expectConsistent(result);
    expect(classRows(result)).toEqual(['11111111', '11111111', '00000000', '00000000']);
  });

  it('gives an empty frame no things and a valid map', () => {
    const result = fuse(sky_road, instances([]));
    expectConsistent(result);
    expect(result.segments.every((s) => !s.isThing)).toBe(true);
  });
});
