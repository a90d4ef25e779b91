/** Recall by COCO size at one IoU: hand-made boxes whose answer can be counted by eye. */
import { describe, expect, it } from 'vitest';
import { recallBySize, sizeOf } from '../../../evaluation/instance/recall-by-size.ts';

describe('recallBySize', () => {
  it('sizes boxes as COCO does: under 32², to 96², above', () => {
    expect(sizeOf([0, 0, 31, 33])).toBe('small'); // 1023 px
    expect(sizeOf([0, 0, 40, 40])).toBe('medium');
    expect(sizeOf([0, 0, 100, 100])).toBe('large');
  });

  it('counts found, missed and false per size; unsure boxes are neither missed nor false', () => {
    const result = recallBySize(
      [
        {
          truth: [
            { box: [0, 0, 10, 10] }, // small, found
            { box: [100, 100, 140, 140] }, // medium, missed
            { box: [200, 200, 320, 320] }, // large, found
            { box: [400, 400, 405, 405], unsure: true }, // a detection on it is not false
            { box: [500, 500, 505, 505], unsure: true }, // never counted missed
          ],
          found: [
            [1, 1, 10, 10],
            [205, 200, 320, 320],
            [400, 400, 405, 405],
            [600, 600, 620, 620], // false
          ],
        },
        { truth: [{ box: [0, 0, 20, 20] }], found: [[0, 0, 20, 20]] },
      ],
      0.5,
    );
    expect(result.bySize).toEqual({ small: { found: 2, total: 2 }, medium: { found: 0, total: 1 }, large: { found: 1, total: 1 } });
    expect(result).toMatchObject({ tp: 3, fp: 1, fn: 1, recall: 0.75, precision: 0.75 });
  });

  it('matches one to one, the best overlap first', () => {
    // One detection between two cars: it goes to the one it overlaps most; the other is missed.
    const result = recallBySize([{ truth: [{ box: [0, 0, 10, 10] }, { box: [4, 0, 14, 10] }], found: [[3, 0, 13, 10]] }], 0.3);
    expect(result).toMatchObject({ tp: 1, fp: 0, fn: 1 });
  });
});
