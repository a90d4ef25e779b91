/**
 * The pieces of motion segmentation on made-up images whose answer is known: the background's
 * warm-up in frames and in stream time (deterministic: time is the frames' own timestamps),
 * the model moved with the camera, its noise learnt per pixel, edges that shimmer by a pixel,
 * the similarity fit, pieces joined, blobs that must persist, morphology, components.
 */
import { describe, expect, it } from 'vitest';
import { BackgroundModel, type BackgroundOptions } from '../../nodes/motion/background-model.ts';
import { boxBlur3 } from '../../nodes/motion/box-blur.ts';
import { ConnectedComponents } from '../../nodes/motion/connected-components.ts';
import { Morphology } from '../../nodes/motion/morphology.ts';
import { MotionSegmenter } from '../../nodes/motion/motion-segmenter.ts';
import { joinPieces } from '../../nodes/motion/blob-groups.ts';
import { BlobPersistence } from '../../nodes/motion/blob-persistence.ts';
import { fitSimilarity } from '../../lib/geometry/similarity-fit.ts';

const W = 64;
const H = 48;

/** A textured ground (so a shift is visible) with an optional bright square at `square`. */
function scene(shiftX = 0, shiftY = 0, square?: readonly [number, number]): Float32Array {
  const grey = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const gx = x - shiftX;
      const gy = y - shiftY;
      grey[y * W + x] = 100 + 40 * Math.sin(gx * 0.7) * Math.cos(gy * 0.5);
      if (square && x >= square[0] && x < square[0] + 8 && y >= square[1] && y < square[1] + 8) grey[y * W + x] = 250;
    }
  }
  return grey;
}

const count = (mask: Uint8Array) => mask.reduce((n, v) => n + v, 0);

describe('background model', () => {
  const options = (settle: BackgroundOptions['settle']): BackgroundOptions => ({ threshold: 20, deviations: 3, adaptation: 40, settle });

  it('judges nothing until the warm-up in frames is over, then sees what moves', () => {
    const model = new BackgroundModel(W, H, options({ frames: 5 }));
    const foreground = new Uint8Array(W * H);
    const judged: number[] = [];
    const moving: number[] = [];
    for (let f = 0; f < 8; f++) {
      judged.push(model.update(scene(0, 0, f >= 3 ? [10 + 4 * f, 20] : undefined), f * 40, foreground));
      moving.push(count(foreground));
    }
    expect(judged).toEqual([0, 0, 0, 0, 0, W * H, W * H, W * H]);
    expect(moving.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(moving.slice(5)).toEqual([64, 64, 64]);
  });

  it('counts the warm-up in stream time when given in seconds, whatever the frame rate', () => {
    const foreground = new Uint8Array(W * H);
    const settledAt = (frameMs: number) => {
      const model = new BackgroundModel(W, H, options({ seconds: 1 }));
      for (let f = 0; ; f++) if (model.update(scene(), f * frameMs, foreground) > 0) return f * frameMs;
    };
    expect(settledAt(40)).toBe(1000);
    expect(settledAt(100)).toBe(1000);
    expect(settledAt(250)).toBe(1000);
  });

  it('follows a camera shift it is told, stays quiet, and judges the uncovered strip only after its own warm-up', () => {
    const model = new BackgroundModel(W, H, options({ frames: 2 }));
    const foreground = new Uint8Array(W * H);
    for (let f = 0; f < 3; f++) model.update(scene(), f * 40, foreground);
    // The picture moves 5 px right: told so, the model moves with it.
    model.shift(5, 0);
    const judged = model.update(scene(5, 0), 120, foreground);
    expect(count(foreground)).toBe(0);
    expect(judged).toBe(W * H - 5 * H);
    // Not told, the textured ground lights up.
    const blind = new BackgroundModel(W, H, options({ frames: 2 }));
    for (let f = 0; f < 3; f++) blind.update(scene(), f * 40, foreground);
    blind.update(scene(5, 0), 120, foreground);
    expect(count(foreground)).toBeGreaterThan(W * H * 0.3);
  });

  it('ignores a change of exposure over the whole picture', () => {
    const model = new BackgroundModel(W, H, options({ frames: 1 }));
    const foreground = new Uint8Array(W * H);
    for (let f = 0; f < 3; f++) model.update(scene(), f * 40, foreground);
    const darker = scene().map((v) => v - 30);
    model.update(darker, 120, foreground);
    expect(count(foreground)).toBe(0);
  });
});

describe('background noise and shimmer', () => {
  const options: BackgroundOptions = { threshold: 20, deviations: 3, adaptation: 40, settle: { frames: 5 } };

  it('learns the noise of a pixel that flickers all the time, and stops calling it motion', () => {
    const model = new BackgroundModel(W, H, options);
    const foreground = new Uint8Array(W * H);
    // Pixel 0 flickers by 30 levels every other frame (a codec's block, a leaf); the rest is still.
    const frame = (f: number) => {
      const grey = scene();
      grey[0] = grey[0]! + (f % 2 ? 30 : 0);
      return grey;
    };
    const flickered: number[] = [];
    for (let f = 0; f < 120; f++) {
      model.update(frame(f), f * 40, foreground);
      flickered.push(foreground[0]!);
    }
    expect(flickered.slice(100).every((v) => v === 0)).toBe(true);
  });

  it('with a jitter radius, an edge that moved by a pixel stays background while a square that arrived is seen', () => {
    const edge = (shift: number, square?: readonly [number, number]) => {
      const grey = new Float32Array(W * H).fill(60);
      for (let y = 0; y < H; y++) for (let x = 30 + shift; x < W; x++) grey[y * W + x] = 200;
      if (square) for (let y = square[1]; y < square[1] + 6; y++) grey.fill(250, y * W + square[0], y * W + square[0] + 6);
      return grey;
    };
    const movingPixels = (jitterRadius: number) => {
      const model = new BackgroundModel(W, H, { ...options, jitterRadius });
      const foreground = new Uint8Array(W * H);
      for (let f = 0; f < 6; f++) model.update(edge(0), f * 40, foreground);
      model.update(edge(1, [5, 5]), 240, foreground);
      return count(foreground);
    };
    // Without: the column the edge left, and the square. With: the square alone.
    expect(movingPixels(0)).toBe(H + 36);
    expect(movingPixels(1)).toBe(36);
  });
});

describe('similarity fit', () => {
  it('finds a rotation, zoom and slide that most pairs agree with, whatever the others do', () => {
    const n = 40;
    const fromX = new Float32Array(n);
    const fromY = new Float32Array(n);
    const toX = new Float32Array(n);
    const toY = new Float32Array(n);
    const [a, b, c, f] = [Math.cos(0.01) * 1.002, Math.sin(0.01) * 1.002, 3.25, -1.5];
    for (let i = 0; i < n; i++) {
      fromX[i] = (i * 37) % 300;
      fromY[i] = (i * 53) % 200;
      toX[i] = a * fromX[i]! - b * fromY[i]! + c;
      toY[i] = b * fromX[i]! + a * fromY[i]! + f;
      // A quarter of them ride on cars, going their own way.
      if (i % 4 === 0) toX[i] = toX[i]! + 9;
    }
    const fit = fitSimilarity(fromX, fromY, toX, toY, n, { tolerance: 0.5, iterations: 100 })!;
    expect(fit.inlierCount).toBe(30);
    expect(fit.affine[0]).toBeCloseTo(a, 6);
    expect(fit.affine[3]).toBeCloseTo(b, 6);
    expect(fit.affine[2]).toBeCloseTo(c, 4);
    expect(fit.affine[5]).toBeCloseTo(f, 4);
  });
});

describe('pieces and persistence', () => {
  const piece = (label: number, x1: number, y1: number, x2: number, y2: number) => ({ label, x1, y1, x2, y2, area: (x2 - x1) * (y2 - y1) });

  it('joins pieces within a share of their size, so a big car is one thing and two small ones stay two', () => {
    // A car of 40 in three pieces 4 apart; two cars of 6, 5 apart.
    const groups = joinPieces([piece(1, 0, 0, 14, 20), piece(2, 18, 0, 26, 20), piece(3, 30, 0, 40, 20), piece(4, 60, 0, 66, 6), piece(5, 71, 0, 77, 6)], 0.5);
    expect(groups.map((g) => [...g.labels].sort())).toEqual([[1, 2, 3], [4], [5]]);
    expect(groups[0]).toMatchObject({ x1: 0, x2: 40, area: 14 * 20 + 8 * 20 + 10 * 20 });
  });

  it('reports a blob only once it has been seen in a few frames in a row, near where it was', () => {
    const persistence = new BlobPersistence(40, 20);
    const labels = new Int32Array(40 * 20);
    const at = (x: number) => {
      labels.fill(0);
      for (let y = 5; y < 9; y++) labels.fill(1, y * 40 + x, y * 40 + x + 4);
      return [{ labels: [1], area: 16, x1: x, y1: 5, x2: x + 4, y2: 9 }];
    };
    // A car moving 3 a frame is kept from its third frame; a speck elsewhere on the next frame is not.
    expect(persistence.keep(at(0), labels, 3)).toHaveLength(0);
    expect(persistence.keep(at(3), labels, 3)).toHaveLength(0);
    expect(persistence.keep(at(6), labels, 3)).toHaveLength(1);
    expect(persistence.keep(at(30), labels, 3)).toHaveLength(0);
  });
});

describe('3x3 box blur', () => {
  it('spreads a point over its 3x3 neighbourhood, keeps a flat plane flat, and clamps at the edges', () => {
    const plane = new Float32Array(5 * 4);
    plane[1 * 5 + 2] = 9;
    boxBlur3(plane, 5, 4, new Float32Array(20));
    // The point at column 2, row 1: each pixel of columns 1-3, rows 0-2 gets a ninth of it.
    const expected = Array.from({ length: 20 }, (_, i) => (i % 5 >= 1 && i % 5 <= 3 && Math.floor(i / 5) <= 2 ? 1 : 0));
    expect(Array.from(plane)).toEqual(expected);
    const flat = new Float32Array(12).fill(7);
    boxBlur3(flat, 4, 3, new Float32Array(12));
    expect(Array.from(flat)).toEqual(new Array(12).fill(7));
    // At an edge the missing neighbour is the edge pixel itself: a 9 in a corner keeps 4/9 of it.
    const corner = new Float32Array(9);
    corner[0] = 9;
    boxBlur3(corner, 3, 3, new Float32Array(9));
    expect(corner[0]).toBeCloseTo(4);
  });
});

describe('morphology and components', () => {
  it('removes specks, fills holes, and labels 8-connected blobs with their bounds', () => {
    const w = 30;
    const h = 14;
    const mask = new Uint8Array(w * h);
    const fill = (x1: number, y1: number, x2: number, y2: number) => {
      for (let y = y1; y < y2; y++) mask.fill(1, y * w + x1, y * w + x2);
    };
    fill(1, 1, 7, 7); // a blob...
    mask[3 * w + 3] = 0; // ...with a hole
    fill(12, 2, 18, 8); // another
    mask[11 * w + 24] = 1; // a speck
    const morphology = new Morphology(w, h);
    morphology.clean(mask, 0, 1); // closing
    expect(mask[3 * w + 3]).toBe(1);
    expect(mask[11 * w + 24]).toBe(1);
    morphology.clean(mask, 1, 0); // opening
    expect(mask[11 * w + 24]).toBe(0);
    const blobs = new ConnectedComponents(w, h).find(mask, 4);
    expect(blobs.map(({ x1, y1, x2, y2, area }) => ({ x1, y1, x2, y2, area }))).toEqual([
      { x1: 1, y1: 1, x2: 7, y2: 7, area: 36 },
      { x1: 12, y1: 2, x2: 18, y2: 8, area: 36 },
    ]);
    // Diagonal neighbours are one blob.
    const diagonal = new Uint8Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(new ConnectedComponents(3, 3).find(diagonal, 1)).toHaveLength(1);
  });
});

describe('motion segmenter', () => {
  it('turns a moving square into one blob with its mask at frame resolution', () => {
    // A 128x96 RGB frame processed 64 wide: the square is 16x16 frame pixels.
    const frame = (f: number) => {
      const data = new Uint8Array(128 * 96 * 3).fill(60);
      const x0 = 20 + 6 * f;
      // It drives in once the background has settled (a thing there from the start leaves a ghost).
      if (f >= 3) for (let y = 40; y < 56; y++) for (let x = x0; x < x0 + 16; x++) data.fill(230, (y * 128 + x) * 3, (y * 128 + x) * 3 + 3);
      return { width: 128, height: 96, data };
    };
    const segmenter = new MotionSegmenter({
      processWidth: 64, threshold: 20, deviations: 3, adaptation: 40, settle: { frames: 3 }, minArea: 50,
      maxAreaFraction: 0.25, openRadius: 1, closeRadius: 1, compensateCamera: false, minMotionConfidence: 0.05,
    });
    let last = segmenter.process(frame(0), 0);
    for (let f = 1; f <= 5; f++) last = segmenter.process(frame(f), f * 40);
    expect(last.blobs).toHaveLength(1);
    const [blob] = last.blobs;
    expect(blob!.box).toEqual([50, 40, 66, 56]);
    expect(blob!.area).toBe(256);
    expect(blob!.mask).toMatchObject({ x: 50, y: 40, width: 16, height: 16 });
    expect(last.settledFraction).toBe(1);
  });

  it('sees a square as bright as the ground but of another colour only when it also looks at colour', () => {
    // Grey ground (88, 88, 88) and a red square of the same luma: 0.299 * 160 + 0.587 * 68 + 0.114 * 68 = 95.5,
    // within the threshold of the ground's 88 in grey, 46 levels off in Cr.
    const frame = (f: number) => {
      const data = new Uint8Array(128 * 96 * 3).fill(88);
      const x0 = 20 + 6 * f;
      if (f >= 3) {
        for (let y = 40; y < 56; y++) for (let x = x0; x < x0 + 16; x++) data.set([160, 68, 68], (y * 128 + x) * 3);
      }
      return { width: 128, height: 96, data };
    };
    const blobsWith = (colour: boolean) => {
      const segmenter = new MotionSegmenter({
        processWidth: 64, threshold: 20, deviations: 3, adaptation: 40, settle: { frames: 3 }, minArea: 50,
        maxAreaFraction: 0.25, openRadius: 1, closeRadius: 1, compensateCamera: false, minMotionConfidence: 0.05, colour,
      });
      let last = segmenter.process(frame(0), 0);
      for (let f = 1; f <= 5; f++) last = segmenter.process(frame(f), f * 40);
      return last.blobs;
    };
    expect(blobsWith(false)).toHaveLength(0);
    const coloured = blobsWith(true);
    expect(coloured).toHaveLength(1);
    expect(coloured[0]!.box).toEqual([50, 40, 66, 56]);
    // The colour planes are blurred 3x3 (box-blur.ts): the square's corners fade below the threshold.
    expect(coloured[0]!.area).toBeGreaterThanOrEqual(240);
    expect(coloured[0]!.area).toBeLessThanOrEqual(256);
  });
});
