import { describe, expect, it } from 'vitest';
import { countNonZero, runsArea, runsCentroid, runsInside, runsMask, segmentRuns } from '../../lib/geometry/pixel-runs.ts';

/** A map drawn as text, one digit per pixel. */
const mapOf = (rows: string[]) => Uint32Array.from(rows.join(''), Number);

describe('segment runs', () => {
  const W = 6;
  const map = mapOf(['112200', '012220', '000333', '300000']);

  it('finds each segment’s runs along rows, in scan order, in one pass', () => {
    const [one, two, three] = segmentRuns(map, W, [1, 2, 3]);
    expect([...one!]).toEqual([0, 2, 7, 8]);
    expect([...two!]).toEqual([2, 4, 8, 11]);
    // A run never crosses a row end: 3 at the end of row 2 and the start of row 3 are two runs.
    expect([...three!]).toEqual([15, 18, 18, 19]);
  });

  it('skips ids not asked for, and void', () => {
    const [two] = segmentRuns(map, W, [2]);
    expect([...two!]).toEqual([2, 4, 8, 11]);
    expect([...segmentRuns(map, W, [9])[0]!]).toEqual([]);
  });

  it('grows past its scratch space on a busy map', () => {
    const width = 1000;
    const busy = Uint32Array.from({ length: width * 20 }, (_, p) => (p % 2) + 1); // 10,000 runs per id
    const [a, b] = segmentRuns(busy, width, [1, 2]);
    expect(a!.length / 2).toBe(10_000);
    expect(runsArea(a!) + runsArea(b!)).toBe(busy.length);
  });

  it('area, centroid, crop and the part inside a region agree with the map', () => {
    const [two] = segmentRuns(map, W, [2]);
    expect(runsArea(two!)).toBe(5);
    // Pixels (2,0) (3,0) (2,1) (3,1) (4,1): centres at +0.5.
    expect(runsCentroid(two!, W)).toEqual([(2 + 3 + 2 + 3 + 4) / 5 + 0.5, (0 + 0 + 1 + 1 + 1) / 5 + 0.5]);
    expect(runsCentroid(new Uint32Array(0), W)).toBeUndefined();
    const mask = runsMask(two!, W, [2, 0, 5, 2]);
    expect(mask).toMatchObject({ x: 2, y: 0, width: 3, height: 2 });
    expect([...mask.data]).toEqual([1, 1, 0, 1, 1, 1]);
    expect(countNonZero(mask.data)).toBe(5);
    const leftHalf = Uint8Array.from(map, (_, p) => (p % W < 3 ? 1 : 0));
    expect(runsInside(two!, leftHalf)).toBe(2);
  });

  it('a crop smaller than the runs keeps what falls inside it', () => {
    const [two] = segmentRuns(map, W, [2]);
    const mask = runsMask(two!, W, [3, 1, 5, 2]);
    expect([...mask.data]).toEqual([1, 1]);
  });
});
