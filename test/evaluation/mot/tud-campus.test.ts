/**
 * The reference pair of `replay/metrics/TUD-Campus` (see PROVENANCE.md, "Tracking metric
 * reference"): py-motmetrics' CLEAR and identity figures and its HOTA figures (which match
 * TrackEval), all to 1e-3. And speed: a sequence of thousands of rows in well under a second.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { countSequence, sequenceMetrics } from '../../../evaluation/mot/evaluate.ts';
import { parseMotText, readMotFile } from '../../../lib/formats/mot-file.ts';
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

describe('speed', () => {
  it('evaluates 250 frames x 24 objects (6000 ground-truth rows, ~6000 predictions) well under a second', () => {
    let seed = 7;
    const next = (): number => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const gtLines: string[] = [];
    const predLines: string[] = [];
    for (let frame = 1; frame <= 250; frame++) {
      for (let id = 1; id <= 24; id++) {
        const left = 40 * id + frame * 0.7 * ((id % 3) - 1);
        const top = 100 + 15 * (id % 5);
        gtLines.push(`${frame},${id},${left},${top},35,90,1,1,1`);
        if (next() < 0.1) continue; // missed
        // Ids swap now and then, boxes jitter.
        const predId = id + 100 * Math.floor(frame / 60) * (id % 2);
        predLines.push(`${frame},${predId},${left + (next() - 0.5) * 8},${top + (next() - 0.5) * 8},35,90,0.9,-1,-1,-1`);
      }
      if (next() < 0.5) predLines.push(`${frame},9999,${next() * 1000},${next() * 500},30,80,0.3,-1,-1,-1`);
    }
    const gt = parseMotText(gtLines.join('\n'), 'gt.txt');
    const pred = parseMotText(predLines.join('\n'), 'pred.txt');
    const started = performance.now();
    const metrics = sequenceMetrics(countSequence(gt, pred, 0.5));
    const elapsed = performance.now() - started;
    expect(metrics.GTDets).toBe(6000);
    expect(metrics.IDSW).toBeGreaterThan(0);
    expect(elapsed).toBeLessThan(500);
  });
});
