/** Slice layouts: where the slices are, for each way of asking for them. */
import { describe, expect, it } from 'vitest';
import { planSlices, slicesSchema } from '../../nodes/inference/slices.ts';

const plan = (raw: unknown, width = 1920, height = 1080) => planSlices(width, height, slicesSchema.parse(raw));
const edges = (slices: ReturnType<typeof plan>) => slices.map((s) => [s.x, s.y, s.x + s.width, s.y + s.height]);

describe('slice layouts', () => {
  it('a 2x3 grid with 20 % overlap covers 1920x1080 in 739x600 slices, as SAHI lays them out', () => {
    const slices = plan({ grid: [2, 3], overlap: 0.2 });
    expect(edges(slices)).toEqual([
      [0, 0, 739, 600], [591, 0, 1330, 600], [1181, 0, 1920, 600],
      [0, 480, 739, 1080], [591, 480, 1330, 1080], [1181, 480, 1920, 1080],
    ]);
    // Neighbours share about a fifth of a slice.
    expect(739 - 591).toBeGreaterThanOrEqual(0.2 * 739 - 1);
  });

  it('fixed-size slices: as many as cover the frame with the overlap, the last one flush with the edge', () => {
    const slices = plan({ size: [640, 640], overlap: 0.25 });
    const xs = [...new Set(slices.map((s) => s.x))];
    const ys = [...new Set(slices.map((s) => s.y))];
    expect(xs).toEqual([0, 427, 853, 1280]);
    expect(ys).toEqual([0, 440]);
    expect(slices.every((s) => s.width === 640 && s.height === 640)).toBe(true);
  });

  it('a slice larger than the frame shrinks to the frame', () => {
    expect(edges(plan({ size: [1024, 1024] }, 960, 540))).toEqual([[0, 0, 960, 540]]);
  });

  it('fullFrame adds the whole frame first', () => {
    const slices = plan({ grid: [1, 2], fullFrame: true }, 1000, 500);
    expect(edges(slices)[0]).toEqual([0, 0, 1000, 500]);
    expect(slices).toHaveLength(3);
  });

  it('regions: slices only over the given parts of the frame', () => {
    const slices = plan({ grid: [1, 2], overlap: 0, regions: [[0.5, 0.5, 1, 1]] }, 1000, 500);
    expect(edges(slices)).toEqual([[500, 250, 750, 500], [750, 250, 1000, 500]]);
  });

  it('asks for exactly one of grid and size, and regions inside the frame', () => {
    expect(() => slicesSchema.parse({ overlap: 0.2 })).toThrow(/either grid: \[rows, cols\] or size/);
    expect(() => slicesSchema.parse({ grid: [2, 2], size: [640, 640] })).toThrow(/either grid/);
    expect(() => slicesSchema.parse({ grid: [2, 2], regions: [[0.5, 0, 0.2, 1]] })).toThrow(/x2 > x1/);
    expect(() => slicesSchema.parse({ grid: [2, 2], overlapp: 0.2 })).toThrow(/overlapp/);
  });
});
