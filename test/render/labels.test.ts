/**
 * Labels at 150 objects: a drone's picture of small cars stays readable. Every small thing gets
 * a dot in its colour; in a crowded picture small things get no label, bigger ones get one only
 * where it covers no other label; a sparse picture labels everything.
 */
import { describe, expect, it } from 'vitest';
import { fromXywh } from '../../lib/geometry/box.ts';
import { drawLabels } from '../../nodes/render/annotate.ts';
import { classColor, instanceShade } from '../../nodes/render/segment-colors.ts';
import type { PanopticFrame, Segment } from '../../pipeline/frame.ts';
import { testClassSet } from '../helpers/panoptic.ts';

const W = 1920;
const H = 1080;
const classes = testClassSet(['car', 'bus'], ['car', 'bus']);

function car(id: number, x: number, y: number, w: number, h: number, classId = 0): Segment {
  return { id, classId, className: classes.names[classId]!, isThing: true, area: w * h, bbox: fromXywh(x, y, w, h), score: 0.8, trackId: id, trackState: 'confirmed', runs: new Uint32Array(0) };
}

function frameOf(segments: Segment[]): PanopticFrame {
  return { width: W, height: H, classMap: new Uint8Array(0), segmentMap: new Uint32Array(0), segments, classes };
}

const overlapping = (a: readonly number[], b: readonly number[]) => a[0]! < b[0]! + b[2]! && b[0]! < a[0]! + a[2]! && a[1]! < b[1]! + b[3]! && b[1]! < a[1]! + a[3]!;

describe('labels where they fit', () => {
  it('at 150 small cars and two buses: dots for every car, the buses labelled, no label over another', () => {
    const segments: Segment[] = [];
    // 150 cars of 12x7 on ten lanes, 60 px apart along each.
    for (let i = 0; i < 150; i++) segments.push(car(i + 1, 40 + (i % 15) * 120 + (Math.floor(i / 15) % 2) * 60, 100 + Math.floor(i / 15) * 90, 12, 7));
    segments.push(car(200, 300, 500, 80, 30, 1), car(201, 340, 505, 70, 28, 1));
    const canvas = { width: W, height: H, data: new Uint8Array(W * H * 3).fill(90) };
    const placed = drawLabels(canvas, frameOf(segments), undefined);
    // The first bus is labelled; the second's label would cover it and is left out.
    expect(placed).toHaveLength(1);
    for (let i = 0; i < placed.length; i++) for (let j = i + 1; j < placed.length; j++) expect(overlapping(placed[i]!, placed[j]!)).toBe(false);
    // Each car's centre carries its dot, in its own shade.
    for (const s of segments.slice(0, 150)) {
      const cx = Math.round((s.bbox[0] + s.bbox[2]) / 2);
      const cy = Math.round((s.bbox[1] + s.bbox[3]) / 2);
      const o = (cy * W + cx) * 3;
      expect([...canvas.data.subarray(o, o + 3)]).toEqual([...instanceShade(classColor(0, undefined), s.trackId!)]);
    }
  });

  it('labels every thing of a sparse picture, small or not', () => {
    const canvas = { width: W, height: H, data: new Uint8Array(W * H * 3).fill(90) };
    const placed = drawLabels(canvas, frameOf([car(1, 100, 100, 12, 7), car(2, 600, 400, 12, 7), car(3, 1200, 700, 90, 40, 1)]), undefined);
    expect(placed).toHaveLength(3);
  });

  it("keeps clear of a counting line's totals", () => {
    const canvas = { width: W, height: H, data: new Uint8Array(W * H * 3).fill(90) };
    const totals = [[90, 70, 200, 20]] as const;
    expect(drawLabels(canvas, frameOf([car(1, 100, 100, 60, 30)]), undefined, totals)).toHaveLength(0);
    expect(drawLabels(canvas, frameOf([car(1, 100, 300, 60, 30)]), undefined, totals)).toHaveLength(1);
  });
});
