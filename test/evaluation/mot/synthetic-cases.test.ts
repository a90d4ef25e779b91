/**
 * TrackEval's synthetic cases (tests/test_metrics.py: two ground-truth ids over five timesteps,
 * similarities 0 or 1) rebuilt as boxes, and small cases whose HOTA, Frag, MT and MOTP can be
 * worked out by hand.
 */
import { describe, expect, it } from 'vitest';
import { countSequence, sequenceMetrics, type MotMetrics } from '../../../evaluation/mot/evaluate.ts';
import { parseMotText } from '../../../lib/formats/mot-file.ts';

/**
 * A TrackEval dense case as MOTChallenge rows: ground truth g sits at its own place; tracker t
 * sits on the box of the ground truth it overlaps at that timestep (similarity 1), or alone far
 * away (similarity 0). Ids are 1-based in the files.
 */
function denseCase(
  similarity: (t: number, g: number, p: number) => number,
  gtPresent: readonly (readonly number[])[],
  trackerPresent: readonly (readonly number[])[],
): MotMetrics {
  const gtLines: string[] = [];
  const predLines: string[] = [];
  const timesteps = gtPresent[0]!.length;
  for (let t = 0; t < timesteps; t++) {
    gtPresent.forEach((present, g) => {
      if (present[t]) gtLines.push(`${t + 1},${g + 1},${1000 * g},0,100,100,1,1,1`);
    });
    trackerPresent.forEach((present, p) => {
      if (!present[t]) return;
      const on = gtPresent.findIndex((_, g) => similarity(t, g, p) === 1);
      const left = on >= 0 ? 1000 * on : 100_000 + 1000 * p;
      predLines.push(`${t + 1},${p + 1},${left},0,100,100,1,-1,-1,-1`);
    });
  }
  const gt = parseMotText(gtLines.join('\n'), 'gt.txt');
  const pred = parseMotText(predLines.join('\n'), 'pred.txt');
  return sequenceMetrics(countSequence(gt, pred, 0.5));
}

/** Similarity from per-pair timelines, TrackEval's `similarity[:, g, p] = [...]`. */
const timelines =
  (pairs: Record<string, readonly number[]>) =>
  (t: number, g: number, p: number): number =>
    pairs[`${g},${p}`]?.[t] ?? 0;

describe("TrackEval's synthetic cases", () => {
  it('no confusion: TP 4, FN 4, FP 5, IDSW 0; MOTA 1 - 9/8, IDF1 8/17', () => {
    const m = denseCase(
      timelines({ '0,1': [0, 0, 0, 1, 1], '1,0': [1, 1, 0, 0, 0] }),
      [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]],
      [[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]],
    );
    expect([m.TP, m.FN, m.FP, m.IDSW]).toEqual([4, 4, 5, 0]);
    expect(m.MOTA).toBeCloseTo(1 - 9 / 8, 12);
    expect([m.IDTP, m.IDFN, m.IDFP]).toEqual([4, 4, 5]);
    expect(m.IDR).toBeCloseTo(4 / 8, 12);
    expect(m.IDP).toBeCloseTo(4 / 9, 12);
    expect(m.IDF1).toBeCloseTo(8 / 17, 12);
  });

  it('with confusion: TP 5, FN 3, FP 4, IDSW 1; MOTA 0, IDF1 8/17', () => {
    const m = denseCase(
      timelines({
        '0,1': [0, 0, 0, 1, 1],
        '1,0': [1, 1, 0, 0, 0],
        '0,0': [0, 0, 1, 0, 0],
        '1,1': [0, 1, 0, 0, 0],
      }),
      [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]],
      [[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]],
    );
    expect([m.TP, m.FN, m.FP, m.IDSW]).toEqual([5, 3, 4, 1]);
    expect(m.MOTA).toBeCloseTo(1 - 8 / 8, 12);
    expect([m.IDTP, m.IDFN, m.IDFP]).toEqual([4, 4, 5]);
    expect(m.IDF1).toBeCloseTo(8 / 17, 12);
  });

  it('split tracks: TP 9, FN 0, FP 2, IDSW 3; MOTA 1 - 5/9, IDF1 8/20', () => {
    const m = denseCase(
      timelines({
        '0,0': [1, 1, 0, 0, 0],
        '0,3': [0, 0, 0, 1, 1],
        '1,1': [0, 0, 1, 1, 0],
        '1,2': [0, 0, 0, 0, 1],
        '1,4': [1, 1, 0, 0, 0],
      }),
      [[1, 1, 0, 1, 1], [1, 1, 1, 1, 1]],
      [[1, 1, 0, 0, 0], [0, 0, 1, 1, 1], [0, 0, 0, 0, 1], [0, 0, 1, 1, 1], [1, 1, 0, 0, 0]],
    );
    expect([m.TP, m.FN, m.FP, m.IDSW]).toEqual([9, 0, 2, 3]);
    expect(m.MOTA).toBeCloseTo(1 - 5 / 9, 12);
    expect([m.IDTP, m.IDFN, m.IDFP]).toEqual([4, 5, 7]);
    expect(m.IDR).toBeCloseTo(4 / 9, 12);
    expect(m.IDP).toBeCloseTo(4 / 11, 12);
    expect(m.IDF1).toBeCloseTo(8 / 20, 12);
  });
});

function evaluate(gtLines: readonly string[], predLines: readonly string[]): MotMetrics {
  const gt = parseMotText(gtLines.join('\n'), 'gt.txt');
  const pred = parseMotText(predLines.join('\n'), 'pred.txt');
  return sequenceMetrics(countSequence(gt, pred, 0.5));
}

describe('hand-worked cases', () => {
  it('one object followed by two ids in turn: DetA 1, AssA 1/2, HOTA √½, one switch', () => {
    const gt = [1, 2, 3, 4].map((f) => `${f},1,10,10,50,100,1`);
    const pred = [1, 2, 3, 4].map((f) => `${f},${f <= 2 ? 7 : 8},10,10,50,100,0.9`);
    const m = evaluate(gt, pred);
    expect(m.DetA).toBeCloseTo(1, 12);
    // Each id covers half the object's track: track IoU 2 / (4 + 2 - 2).
    expect(m.AssA).toBeCloseTo(0.5, 12);
    expect(m.HOTA).toBeCloseTo(Math.SQRT1_2, 12);
    expect(m.LocA).toBeCloseTo(1, 12);
    expect(m.IDSW).toBe(1);
    expect(m.IDF1).toBeCloseTo(2 / 4, 12); // IDTP 2 of 4 + 4 boxes
  });

  it('a box at exactly IoU 0.5: matched at alphas 0.05..0.50 (10 of 19), and by CLEAR', () => {
    const m = evaluate(['1,1,0,0,100,100,1'], ['1,5,0,0,50,100,1']);
    expect(m.HOTA).toBeCloseTo(10 / 19, 12);
    expect(m.DetA).toBeCloseTo(10 / 19, 12);
    // LocA is 0.5 where matched and 1 (TrackEval's 1e-10 / 1e-10) where not.
    expect(m.LocA).toBeCloseTo((10 * 0.5 + 9) / 19, 12);
    expect([m.TP, m.FP, m.FN]).toEqual([1, 0, 0]);
    expect(m.MOTP).toBeCloseTo(0.5, 12);
    expect(m.MOTPDistance).toBeCloseTo(0.5, 12);
  });

  it('counts a fragmentation only for a return to tracked, and MT from 80% tracked', () => {
    // Object 1: tracked, missed, tracked, tracked, missed → 3/5 tracked, one fragmentation (the
    // miss at the end is not one). Object 2: tracked 4 of 5 frames → mostly tracked.
    const gt: string[] = [];
    const pred: string[] = [];
    for (let f = 1; f <= 5; f++) {
      gt.push(`${f},1,0,0,50,100,1`, `${f},2,500,0,50,100,1`);
      if (f !== 2 && f !== 5) pred.push(`${f},11,0,0,50,100,1`);
      if (f !== 3) pred.push(`${f},12,500,0,50,100,1`);
    }
    const m = evaluate(gt, pred);
    expect(m.Frag).toBe(2); // one per object: object 2 returns after its miss at frame 3
    expect([m.MT, m.PT, m.ML]).toEqual([1, 1, 0]);
    expect([m.TP, m.FN, m.FP, m.IDSW]).toEqual([7, 3, 0, 0]);
  });

  it('keeps last frame’s match while it still overlaps, instead of a better-fitting newcomer', () => {
    // Frame 2: hypothesis 21 (IoU ~0.67) continues; hypothesis 22 (IoU 1) is a false positive.
    const m = evaluate(
      ['1,1,0,0,100,100,1', '2,1,0,0,100,100,1'],
      ['1,21,0,0,100,100,1', '2,21,0,20,100,100,1', '2,22,0,0,100,100,1'],
    );
    expect([m.TP, m.FP, m.IDSW]).toEqual([2, 1, 0]);
  });

  it('scores an empty prediction as all misses and an empty ground truth as all false positives', () => {
    const missed = evaluate(['1,1,0,0,10,10,1', '2,1,0,0,10,10,1', '2,2,50,0,10,10,1'], []);
    expect([missed.FN, missed.FP, missed.ML, missed.GTIDs, missed.Frames]).toEqual([3, 0, 2, 2, 2]);
    expect([missed.MOTA, missed.Recall, missed.IDF1, missed.HOTA]).toEqual([0, 0, 0, 0]);
    const spurious = evaluate([], ['1,1,0,0,10,10,1', '1,2,50,0,10,10,1']);
    expect([spurious.FP, spurious.FN, spurious.GTIDs]).toEqual([2, 0, 0]);
    expect(spurious.MOTA).toBe(-1); // 1 - 2 / max(1, 0), TrackEval's convention
  });
});
