import { describe, expect, it } from 'vitest';
import { boxBottomCenter, boxCenter, boxIou, fromXywh, toXywh } from '../../lib/geometry/box.ts';

describe('boxIou', () => {
  it('is intersection over union of corner boxes', () => {
    expect(boxIou([0, 0, 10, 10], [0, 0, 10, 10])).toBe(1);
    expect(boxIou([0, 0, 10, 10], [5, 0, 15, 10])).toBeCloseTo(50 / 150, 15);
    expect(boxIou([0, 0, 10, 10], [10, 0, 20, 10])).toBe(0); // touching edges
    expect(boxIou([0, 0, 0, 0], [0, 0, 0, 0])).toBe(0); // empty boxes
    expect(boxIou([0, 0, 10, 10], [2, 2, 4, 4])).toBeCloseTo(4 / 100, 15); // one inside the other
  });

  it('reads boxes out of a struct-of-arrays at offsets, without copies', () => {
    const boxes = Float32Array.of(0, 0, 10, 10, 5, 0, 15, 10, 100, 100, 110, 110);
    expect(boxIou(boxes, boxes, 0, 4)).toBeCloseTo(50 / 150, 6);
    expect(boxIou(boxes, boxes, 4, 8)).toBe(0);
    expect(boxIou(boxes, [5, 0, 15, 10], 4)).toBe(1);
  });

  it('matches the MOT convention through the xywh edge', () => {
    expect(boxIou(fromXywh(0, 0, 10, 10), fromXywh(5, 0, 10, 10))).toBeCloseTo(50 / 150, 15);
    expect(toXywh(fromXywh(3, 4, 5, 6))).toEqual([3, 4, 5, 6]);
  });

  it('anchor points', () => {
    expect(boxCenter([0, 0, 10, 20])).toEqual([5, 10]);
    expect(boxBottomCenter([0, 0, 10, 20])).toEqual([5, 20]);
  });
});
