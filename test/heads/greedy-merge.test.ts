/** Merging the slices' detections (GREEDYNMM on intersection over smaller), on hand-built boxes. */
import { describe, expect, it } from 'vitest';
import { intersectionOverSmaller, mergeSliceDetections, type SliceDetections } from '../../nodes/heads/greedy-merge.ts';
import type { InstanceMask, Instances } from '../../pipeline/frame.ts';
import type { SliceRegion } from '../../nodes/inference/slices.ts';
import { testClassSet } from '../helpers/panoptic.ts';

const CLASSES = testClassSet(['person', 'car'], ['person', 'car']);
const FRAME = { width: 200, height: 100 };
const LEFT: SliceRegion = { x: 0, y: 0, width: 110, height: 100 };
const RIGHT: SliceRegion = { x: 90, y: 0, width: 110, height: 100 };

type Detection = { box: [number, number, number, number]; score: number; classId?: number; mask?: InstanceMask };

function slice(region: SliceRegion, list: Detection[]): SliceDetections {
  const withMasks = list.every((d) => d.mask);
  const instances: Instances = {
    model: 'test',
    count: list.length,
    boxes: Float32Array.from(list.flatMap((d) => d.box)),
    scores: Float32Array.from(list.map((d) => d.score)),
    classIds: Int32Array.from(list.map((d) => d.classId ?? 0)),
    classes: CLASSES,
    masks: withMasks ? list.map((d) => d.mask!) : undefined,
  };
  return { instances, region };
}

/** A mask filling its whole box. */
function full(x: number, y: number, width: number, height: number): InstanceMask {
  return { x, y, width, height, data: new Uint8Array(width * height).fill(1) };
}

const merge = (slices: SliceDetections[], threshold = 0.5) => mergeSliceDetections(slices, FRAME.width, FRAME.height, threshold, 100);
const boxesOf = (m: Instances) => Array.from({ length: m.count }, (_, i) => Array.from(m.boxes.subarray(i * 4, i * 4 + 4)));

describe('merging what the slices found', () => {
  it('intersection over smaller: a part inside the whole scores 1', () => {
    const boxes = Float32Array.from([0, 0, 10, 10, 2, 2, 6, 6, 20, 20, 30, 30]);
    expect(intersectionOverSmaller(boxes, 0, 1)).toBe(1);
    expect(intersectionOverSmaller(boxes, 0, 2)).toBe(0);
  });

  it('the whole person from one slice absorbs the cut part from the other: one instance, the best score, union box and masks', () => {
    const merged = merge([
      slice(LEFT, [{ box: [80, 10, 105, 90], score: 0.9, mask: full(80, 10, 25, 80) }]),
      slice(RIGHT, [{ box: [90, 12, 105, 88], score: 0.6, mask: full(90, 12, 15, 76) }]),
    ]);
    expect(merged.count).toBe(1);
    expect(boxesOf(merged)).toEqual([[80, 10, 105, 90]]);
    expect(merged.scores[0]).toBeCloseTo(0.9);
    expect(merged.masks![0]).toMatchObject({ x: 80, y: 10, width: 25, height: 80 });
  });

  it('two parts, each cut by its slice border, neither whole: one instance covering both', () => {
    // The person spans 70..130; the left slice ends at 110, the right one starts at 90.
    const merged = merge([
      slice(LEFT, [{ box: [70, 20, 110, 95], score: 0.7, mask: full(70, 20, 40, 75) }]),
      slice(RIGHT, [{ box: [90, 18, 130, 96], score: 0.8, mask: full(90, 18, 40, 78) }]),
    ]);
    expect(merged.count).toBe(1);
    expect(boxesOf(merged)).toEqual([[70, 18, 130, 96]]);
    const mask = merged.masks![0]!;
    expect(mask).toMatchObject({ x: 70, y: 18, width: 60, height: 78 });
    // Union of the two: the corner only the right part covers is set, the one neither covers is not.
    expect(mask.data[0 * 60 + 59]).toBe(1);
    expect(mask.data[0 * 60 + 0]).toBe(0);
  });

  it('two people side by side at the border, cut but at different heights, stay two', () => {
    const merged = merge([
      // The boxes touch (95..110 x 40..60) but share less than half of the shorter height.
      slice(LEFT, [{ box: [95, 10, 110, 60], score: 0.7 }]),
      slice(RIGHT, [{ box: [90, 40, 120, 95], score: 0.8 }]),
    ]);
    expect(merged.count).toBe(2);
  });

  it('class-aware: a person and a car overlapping are not merged', () => {
    const merged = merge([
      slice(LEFT, [{ box: [10, 10, 50, 50], score: 0.9, classId: 1 }]),
      slice(RIGHT, [{ box: [100, 10, 120, 40], score: 0.9 }]),
      slice({ x: 0, y: 0, width: 200, height: 100 }, [{ box: [12, 12, 48, 48], score: 0.8, classId: 0 }]),
    ]);
    expect(merged.count).toBe(3);
  });

  it('distinct objects in one slice stay distinct; the order is by score', () => {
    const merged = merge([slice(LEFT, [{ box: [10, 10, 30, 30], score: 0.5 }, { box: [40, 10, 60, 30], score: 0.9 }])]);
    expect(boxesOf(merged)).toEqual([[40, 10, 60, 30], [10, 10, 30, 30]]);
  });

  it('box-only detections merge to box-only instances', () => {
    const merged = merge([slice(LEFT, [{ box: [80, 10, 105, 90], score: 0.9 }]), slice(RIGHT, [{ box: [90, 12, 105, 88], score: 0.6 }])]);
    expect(merged.count).toBe(1);
    expect(merged.masks).toBeUndefined();
  });
});
