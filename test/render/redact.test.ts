/**
 * The redact node's pixels: a blur that is the plain two-pass box blur (checked against a naive
 * one), that flattens a real frame's detail inside each box and leaves every pixel outside as it
 * was; a fill of the exact colour; boxes from the panoptic things or the instances, by class.
 */
import { firstValueFrom, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Box } from '../../lib/geometry/box.ts';
import { boxesToRedact, redact, Redactor, type RedactOptions } from '../../nodes/render/redact.ts';
import { packetOf, type Frame, type FramePacket, type Instances, type PanopticFrame, type TrackedObject, type TrackState } from '../../pipeline/frame.ts';
import { chainContext } from '../helpers/data-dir.ts';
import { decodeFrame } from '../helpers/frames.ts';
import { testClassSet } from '../helpers/panoptic.ts';

const BLUR: RedactOptions = { mode: 'blur', blurRadius: 16, fillColor: [0, 0, 0], padding: 0 };

/** Variance of the grey level (mean of R, G, B) over `[x1, x2) x [y1, y2)`. */
function greyVariance(data: Uint8Array, width: number, [x1, y1, x2, y2]: Box): number {
  let sum = 0;
  let squares = 0;
  for (let y = y1; y < y2; y++) {
    for (let x = x1; x < x2; x++) {
      const o = (y * width + x) * 3;
      const grey = (data[o]! + data[o + 1]! + data[o + 2]!) / 3;
      sum += grey;
      squares += grey * grey;
    }
  }
  const n = (x2 - x1) * (y2 - y1);
  return squares / n - (sum / n) ** 2;
}

/** Byte offsets of the pixels outside `[x1, x2) x [y1, y2)` that differ between `a` and `b`. */
function changedOutside(a: Uint8Array, b: Uint8Array, width: number, [x1, y1, x2, y2]: Box): number {
  let changed = 0;
  for (let o = 0; o < a.length; o++) {
    const p = Math.floor(o / 3);
    const x = p % width;
    const y = Math.floor(p / width);
    if (x >= x1 && x < x2 && y >= y1 && y < y2) continue;
    if (a[o] !== b[o]) changed++;
  }
  return changed;
}

/** The blur written the slow, obvious way: each pass averages 2r+1 neighbours, edges repeated, rounded. */
function naiveBlur(data: Uint8Array, width: number, [x1, y1, x2, y2]: Box, radius: number, passes: number): void {
  const w = x2 - x1;
  const h = y2 - y1;
  const at = (x: number, y: number, c: number) => ((y1 + y) * width + x1 + x) * 3 + c;
  const clamp = (v: number, n: number) => Math.min(Math.max(v, 0), n - 1);
  for (let pass = 0; pass < passes; pass++) {
    const rows = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let c = 0; c < 3; c++) {
          let sum = 0;
          for (let k = -radius; k <= radius; k++) sum += data[at(clamp(x + k, w), y, c)]!;
          rows[(y * w + x) * 3 + c] = Math.floor(sum / (2 * radius + 1) + 0.5);
        }
      }
    }
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let c = 0; c < 3; c++) {
          let sum = 0;
          for (let k = -radius; k <= radius; k++) sum += rows[(clamp(y + k, h) * w + x) * 3 + c]!;
          data[at(x, y, c)] = Math.floor(sum / (2 * radius + 1) + 0.5);
        }
      }
    }
  }
}

describe('redact pixels', () => {
  it('blurs as the naive two-pass box blur does, for radii below, near and beyond the box size', () => {
    const width = 40;
    const height = 30;
    const noise = new Uint8Array(width * height * 3);
    let seed = 7;
    for (let i = 0; i < noise.length; i++) noise[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    for (const radius of [1, 3, 9, 25]) {
      for (const box of [[5, 4, 31, 21], [0, 0, 40, 30], [12, 10, 13, 20]] as Box[]) {
        const fast = noise.slice();
        new Redactor({ ...BLUR, blurRadius: radius }).apply(fast, width, height, box);
        const slow = noise.slice();
        naiveBlur(slow, width, box, radius, 2);
        expect(Buffer.from(fast).equals(Buffer.from(slow)), `radius ${radius}, box ${box.join(',')}`).toBe(true);
      }
    }
  });

  it('on a real frame, flattens the detail inside the padded box and leaves every pixel outside as it was', () => {
    const frame = decodeFrame('solidWhiteRight.mp4', 0, 960, 540);
    // The road ahead with its lane marking: detail to lose.
    const box: Box = [560, 330, 700, 420];
    const padded: Box = [546, 321, 714, 429];
    const before = greyVariance(frame.data, 960, padded);
    const data = frame.data.slice();
    new Redactor({ ...BLUR, padding: 0.1 }).apply(data, 960, 540, box);
    expect(before).toBeGreaterThan(200);
    expect(greyVariance(data, 960, padded)).toBeLessThan(before * 0.3);
    expect(changedOutside(frame.data, data, 960, padded)).toBe(0);
    // The blur reaches the padded box's edges, not past them.
    expect(greyVariance(data, 960, [546, 321, 552, 429])).toBeLessThan(greyVariance(frame.data, 960, [546, 321, 552, 429]));
  });

  it('fills the padded box with the exact colour, clipped to the frame', () => {
    const frame = decodeFrame('solidWhiteRight.mp4', 0, 960, 540);
    const data = frame.data.slice();
    // Runs off the right and bottom edges: only the part in the frame is painted.
    new Redactor({ ...BLUR, mode: 'fill', fillColor: [12, 200, 99], padding: 0.5 }).apply(data, 960, 540, [900, 500, 1000, 560]);
    const painted: Box = [850, 470, 960, 540];
    let other = 0;
    for (let y = painted[1]; y < painted[3]; y++) {
      for (let x = painted[0]; x < painted[2]; x++) {
        const o = (y * 960 + x) * 3;
        if (data[o] !== 12 || data[o + 1] !== 200 || data[o + 2] !== 99) other++;
      }
    }
    expect(other).toBe(0);
    expect(changedOutside(frame.data, data, 960, painted)).toBe(0);
  });
});

describe('redact node', () => {
  const classes = testClassSet(['road', 'car', 'person'], ['car', 'person']);
  const frameOf = (): Frame => {
    const { data, width, height } = decodeFrame('solidWhiteRight.mp4', 0, 960, 540);
    return { stream: 'test', seq: 0, ptsMs: 0, width, height, data, capturedAtMs: 0 };
  };
  const run = async (packet: FramePacket, options: object) => {
    const ctx = chainContext({ label: 'redact' });
    const operator = await redact.create(redact.options.parse(options), ctx);
    return { out: await firstValueFrom(of(packet).pipe(operator)), ctx };
  };

  it('fills the boxes of the chosen classes of the panoptic things, in the frame itself, and times it', async () => {
    const frame = frameOf();
    const original = frame.data.slice();
    const segment = (id: number, className: string, bbox: Box) => ({
      id, classId: classes.names.indexOf(className), className, isThing: className !== 'road', area: 1, bbox, runs: new Uint32Array(0), score: 0.9,
    });
    const panoptic: PanopticFrame = {
      width: 960, height: 540, classMap: new Uint8Array(0), segmentMap: new Uint32Array(0), classes,
      segments: [segment(1, 'car', [100, 300, 140, 330]), segment(2, 'person', [300, 300, 320, 340]), segment(3, 'road', [0, 330, 960, 540])],
    };
    const { out } = await run({ ...packetOf(frame), panoptic }, { classes: ['car'], mode: 'fill', fillColor: [255, 0, 255], padding: 0 });
    expect(out.frame.data).toBe(frame.data);
    expect(out.timings).toHaveProperty('redact');
    const o = (315 * 960 + 120) * 3;
    expect([...out.frame.data.subarray(o, o + 3)]).toEqual([255, 0, 255]);
    // The person and the road (stuff) are left alone: only the car's box changed.
    expect(changedOutside(original, out.frame.data, 960, [100, 300, 140, 330])).toBe(0);
  });

  it('also hides where the tracker expects an object of those classes it lost for a frame, and no other track', async () => {
    const frame = frameOf();
    const original = frame.data.slice();
    const panoptic: PanopticFrame = { width: 960, height: 540, classMap: new Uint8Array(0), segmentMap: new Uint32Array(0), classes, segments: [] };
    const track = (trackId: number, className: string, state: TrackState, bbox: Box): TrackedObject =>
      ({ trackId, classId: classes.names.indexOf(className), className, state, bbox, score: 0.8, ageMs: 400, hits: 9 });
    const tracks = [track(1, 'car', 'lost', [500, 320, 540, 350]), track(2, 'person', 'lost', [300, 300, 320, 340]), track(3, 'car', 'confirmed', [10, 10, 50, 50])];
    const { out } = await run({ ...packetOf(frame), panoptic, tracks }, { classes: ['car'], mode: 'fill', fillColor: [255, 0, 255], padding: 0 });
    const o = (335 * 960 + 520) * 3;
    expect([...out.frame.data.subarray(o, o + 3)]).toEqual([255, 0, 255]);
    // The lost person (another class) and the confirmed car without a segment in this frame are left alone.
    expect(changedOutside(original, out.frame.data, 960, [500, 320, 540, 350])).toBe(0);
  });

  it('without a panoptic frame, takes the instances\' boxes; warns once of a class the model does not know', async () => {
    const frame = frameOf();
    const original = frame.data.slice();
    const instances: Instances = {
      model: 'test', count: 2, classes, masks: undefined,
      boxes: new Float32Array([200, 310, 260.5, 350.2, 600, 300, 650, 340]), scores: new Float32Array([0.9, 0.8]), classIds: new Int32Array([2, 1]),
    };
    const { out, ctx } = await run({ ...packetOf(frame), instances }, { classes: ['person', 'face'], padding: 0 });
    expect(changedOutside(original, out.frame.data, 960, [200, 310, 261, 351])).toBe(0);
    expect(greyVariance(out.frame.data, 960, [200, 310, 261, 351])).toBeLessThan(greyVariance(original, 960, [200, 310, 261, 351]));
    expect(ctx.log.lines.filter((line) => line.includes('"face" is not among the thing classes of test (car, person)'))).toHaveLength(1);
  });

  it('with a panoptic frame, still hides a detected person fusion dropped, and a person fusion made a rider, once each', async () => {
    const withRider = testClassSet(['road', 'car', 'person', 'rider'], ['car', 'person', 'rider']);
    const frame = frameOf();
    const original = frame.data.slice();
    const riderBox: Box = [300, 300, 330, 350];
    const panoptic: PanopticFrame = {
      width: 960, height: 540, classMap: new Uint8Array(0), segmentMap: new Uint32Array(0), classes: withRider,
      segments: [{ id: 1, classId: 3, className: 'rider', isThing: true, area: 1, bbox: riderBox, runs: new Uint32Array(0), score: 0.9 }],
    };
    // The detector saw two people: the one on the bicycle (the rider's box) and one fusion dropped.
    const instances: Instances = {
      model: 'test', count: 2, classes: withRider, masks: undefined,
      boxes: new Float32Array([...riderBox, 600, 300, 640, 360]), scores: new Float32Array([0.9, 0.5]), classIds: new Int32Array([2, 2]),
    };
    expect(boxesToRedact({ ...packetOf(frame), panoptic, instances }, new Set(['person'])).list).toEqual([riderBox, [600, 300, 640, 360]]);
    const { out } = await run({ ...packetOf(frame), panoptic, instances }, { classes: ['person'], mode: 'fill', fillColor: [255, 0, 255], padding: 0 });
    for (const [x, y] of [[315, 325], [620, 330]]) {
      const o = (y! * 960 + x!) * 3;
      expect([...out.frame.data.subarray(o, o + 3)]).toEqual([255, 0, 255]);
    }
    expect(changedOutside(original, out.frame.data, 960, [300, 300, 640, 360])).toBe(0);
  });
});
