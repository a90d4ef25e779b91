/**
 * The reference pair of `replay/metrics/TUD-Campus` (see PROVENANCE.md, "Tracking metric
 * reference"): py-motmetrics' CLEAR and identity figures and its HOTA figures (which match
 * TrackEval), all to 1e-3. And speed: a sequence of thousands of rows in well under a second.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { countSequence, sequenceMetrics } from '../../../evaluation/mot/evaluate.ts';
import { readMotFile } from '../../../lib/formats/mot-file.ts';
import { syntheticMotSequence } from '../../../testing/synthetic-mot.ts';
import { dataDir } from '../../helpers/data-dir.ts';

const folder = path.join(dataDir(), 'replay/metrics/TUD-Campus');
const TOLERANCE = 1e-3;

describe('TUD-Campus against py-motmetrics and TrackEval', () => {
  const gt = readMotFile(path.join(folder, 'gt.txt'));
  const test = readMotFile(path.join(folder, 'test.txt'));
  const metrics = sequenceMetrics(countSequence(gt, test, 0.5));

  it.each([
    ['IDF1', 0.557659],
    ['IDP', 0.72973],
    ['IDR', 0.451253],
    ['Recall', 0.582173],
    ['Precision', 0.941441],
    ['MOTA', 0.526462],
    ['MOTPDistance', 0.277201],
    ['HOTA', 0.3913974378451139],
    ['DetA', 0.418047030142763],
    ['AssA', 0.36912068120832836],
  ] as const)('%s = %f', (name, expected) => {
    expect(Math.abs(metrics[name] - expected)).toBeLessThan(TOLERANCE);
  });

  it('counts as py-motmetrics does', () => {
    expect({
      GTIDs: metrics.GTIDs, MT: metrics.MT, PT: metrics.PT, ML: metrics.ML,
      FP: metrics.FP, FN: metrics.FN, IDSW: metrics.IDSW, Frag: metrics.Frag,
    }).toEqual({ GTIDs: 8, MT: 1, PT: 6, ML: 1, FP: 13, FN: 150, IDSW: 7, Frag: 7 });
  });

  it('gives MOTP as mean IoU too, the complement of the distance', () => {
    expect(metrics.MOTP).toBeCloseTo(1 - 0.277201, 5);
  });

  it('scores the ground truth against itself as perfect', () => {
    const perfect = sequenceMetrics(countSequence(gt, gt, 0.5));
    for (const name of ['MOTA', 'MOTP', 'IDF1', 'HOTA', 'DetA', 'AssA', 'LocA', 'Recall', 'Precision'] as const) {
      expect(perfect[name]).toBeCloseTo(1, 12);
    }
    expect([perfect.FP, perfect.FN, perfect.IDSW, perfect.Frag, perfect.MT]).toEqual([0, 0, 0, 0, 8]);
  });
});

describe('a sequence of MOTChallenge size', () => {
  // How fast it scores is measured by the bench (bench/mot-eval.bench.ts), not here.
  it('scores 250 frames x 24 objects (6000 ground-truth rows) with the misses and id swaps it was given', () => {
    const { gt, pred } = syntheticMotSequence();
    const metrics = sequenceMetrics(countSequence(gt, pred, 0.5));
    expect(metrics.GTDets).toBe(6000);
    expect(metrics.PredDets).toBe(pred.count);
    expect(metrics.FN).toBeGreaterThan(500); // about 10% missed
    expect(metrics.IDSW).toBeGreaterThan(0);
  });
});
