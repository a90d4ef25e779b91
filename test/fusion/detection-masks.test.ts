/**
 * Box-only detections in fusion: the semantic pixels of the detection's class inside its box,
 * else the box; the segment says which. Hand-built 8x4 inputs, checked pixel by pixel.
 */
import { describe, expect, it } from 'vitest';
import { fusePanoptic, LabelScaler, type FusionClasses } from '../../nodes/fusion/fuse-panoptic.ts';
import type { Instances, SemanticLabels } from '../../pipeline/frame.ts';
import { testClassSet } from '../helpers/panoptic.ts';

// Panoptic classes: 0 road, 1 sky (stuff), 2 person, 3 rider, 4 car (things), 5 background (void).
const NAMES = ['road', 'sky', 'person', 'rider', 'car', 'background'];
const SET = testClassSet(NAMES, ['person', 'rider', 'car'], { voids: ['background'] });
const CLASSES: FusionClasses = { ...SET, instanceToPanoptic: Int32Array.from([2, 4, -1]), person: 2, rider: 3, ridden: [] };
const DETECTOR_CLASSES = testClassSet(['person', 'car', 'dog'], ['person', 'car', 'dog']);
const W = 8;
const H = 4;

function semantic(rows: string[]): SemanticLabels {
  return { model: 'test', width: W, height: H, labels: Uint8Array.from(rows.join('').split('').map(Number)), classes: SET };
}

function detections(list: { classId: number; score: number; box: [number, number, number, number] }[]): Instances {
  return {
    model: 'test',
    count: list.length,
    boxes: Float32Array.from(list.flatMap((d) => d.box)),
    scores: Float32Array.from(list.map((d) => d.score)),
    classIds: Int32Array.from(list.map((d) => d.classId)),
    classes: DETECTOR_CLASSES,
    masks: undefined,
  };
}

function fuse(sem: SemanticLabels, inst: Instances) {
  const out = { classMap: new Uint8Array(W * H), segmentMap: new Uint32Array(W * H) };
  const { segments } = fusePanoptic(W, H, sem, inst, CLASSES, { minArea: 1, minVisibleFraction: 0.5 }, out, new LabelScaler());
  return { ...out, segments };
}

/** The segment ids as rows of digits, for comparing with a picture. */
function picture(map: Uint32Array): string[] {
  return Array.from({ length: H }, (_, y) => Array.from(map.subarray(y * W, (y + 1) * W)).join(''));
}

describe('masks for box-only detections', () => {
  it('a car box over semantic car pixels takes those pixels, not the road in its corners', () => {
    const sem = semantic(['11111111', '10444011', '00444000', '00000000']);
    const result = fuse(sem, detections([{ classId: 1, score: 0.9, box: [1, 1, 6, 3] }]));
    const car = result.segments.find((s) => s.className === 'car')!;
    expect(car).toMatchObject({ isThing: true, area: 6, bbox: [2, 1, 5, 3], maskSource: 'semantic' });
    // Segment ids: the car 1, road 2, sky 3. The road in the box's corners stays road.
    expect(picture(result.segmentMap)).toEqual(['33333333', '32111233', '22111222', '22222222']);
  });

  it('where the semantic model has no pixels of the class, the box is the mask', () => {
    const sem = semantic(['11111111', '11111111', '00000000', '00000000']);
    const result = fuse(sem, detections([{ classId: 0, score: 0.8, box: [2, 0, 4, 4] }]));
    const person = result.segments.find((s) => s.isThing)!;
    expect(person).toMatchObject({ className: 'person', area: 8, bbox: [2, 0, 4, 4], maskSource: 'box' });
  });

  it('a detected person takes rider pixels too, and stays a person with no bicycle under it', () => {
    const sem = semantic(['11133111', '11133111', '00032000', '00000000']);
    const result = fuse(sem, detections([{ classId: 0, score: 0.8, box: [2, 0, 6, 3] }]));
    const thing = result.segments.find((s) => s.isThing)!;
    expect(thing).toMatchObject({ className: 'person', area: 6, bbox: [3, 0, 5, 3], maskSource: 'semantic' });
  });

  it('overlapping detections: the higher score keeps the shared pixels, the other the rest', () => {
    const sem = semantic(['11111111', '04444440', '04444440', '00000000']);
    const result = fuse(
      sem,
      detections([
        { classId: 1, score: 0.5, box: [3, 1, 7, 3] },
        { classId: 1, score: 0.9, box: [1, 1, 5, 3] },
      ]),
    );
    const [first, second] = result.segments.filter((s) => s.isThing);
    expect(first).toMatchObject({ score: expect.closeTo(0.9, 5), area: 8, bbox: [1, 1, 5, 3] });
    expect(second).toMatchObject({ score: expect.closeTo(0.5, 5), area: 4, bbox: [5, 1, 7, 3] });
  });

  it('masked instances say their mask is the model\'s', () => {
    const sem = semantic(['11111111', '11111111', '00000000', '00000000']);
    const inst: Instances = {
      ...detections([{ classId: 1, score: 0.9, box: [0, 0, 2, 2] }]),
      masks: [{ x: 0, y: 0, width: 2, height: 2, data: Uint8Array.from([1, 1, 1, 0]) }],
    };
    expect(fuse(sem, inst).segments.find((s) => s.isThing)).toMatchObject({ area: 3, maskSource: 'model' });
  });
});
