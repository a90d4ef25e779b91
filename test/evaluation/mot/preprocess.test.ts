/**
 * MOTChallenge's pedestrian rules on hand-made rows, and on the MOT17-02 ground truth.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { countSequence, sequenceMetrics } from '../../../evaluation/mot/evaluate.ts';
import { parseMotText, readMotFile } from '../../../lib/formats/mot-file.ts';
import { prepareSequence } from '../../../evaluation/mot/preprocess.ts';
import { dataDir } from '../../helpers/data-dir.ts';

const rows = (lines: readonly string[], source = 'rows.txt') => parseMotText(lines.join('\n'), source);

describe('the MOTChallenge pedestrian rules', () => {
  // Frame 1: a pedestrian, a pedestrian marked conf 0, a static person (a distractor), a car.
  const gt = rows([
    '1,1,0,0,50,100,1,1,1',
    '1,2,200,0,50,100,0,1,1',
    '1,3,400,0,50,100,1,7,1',
    '1,4,600,0,80,60,1,3,1',
  ]);

  it('ignores ground truth with conf 0 or a class other than pedestrian', () => {
    const { counts, numGtIds, numGtDets } = prepareSequence(gt, rows([]), 0.5);
    expect(counts).toMatchObject({ gtRows: 4, gtEvaluated: 1, gtIgnoredConfZero: 1, gtIgnoredClass: 2 });
    expect([numGtIds, numGtDets]).toEqual([1, 1]);
  });

  it('removes predictions on a distractor, and only those', () => {
    const pred = rows([
      '1,10,0,0,50,100,0.9', // on the pedestrian: a match
      '1,11,200,0,50,100,0.9', // on the conf-0 pedestrian: not a distractor, a false positive
      '1,12,402,0,50,100,0.9', // on the static person: removed
      '1,13,600,0,80,60,0.9', // on the car: not a distractor, a false positive
    ]);
    const counts = countSequence(gt, pred, 0.5);
    expect(counts.preprocessing.predRemovedOnDistractor).toBe(1);
    const m = sequenceMetrics(counts);
    expect([m.TP, m.FP, m.FN, m.PredDets, m.PredIDs]).toEqual([1, 2, 0, 3, 3]);
  });

  it('matches predictions to all ground truth first, so one that fits a pedestrian better stays', () => {
    // A pedestrian and a static person side by side; the prediction overlaps both by IoU ≥ 0.5
    // but the pedestrian more: the maximum-IoU assignment gives it to the pedestrian.
    const crowd = rows(['1,1,0,0,100,100,1,1,1', '1,2,20,0,100,100,1,7,1']);
    const pred = rows(['1,10,5,0,100,100,0.9']);
    const counts = countSequence(crowd, pred, 0.5);
    expect(counts.preprocessing.predRemovedOnDistractor).toBe(0);
    expect(sequenceMetrics(counts).TP).toBe(1);
  });

  it('keeps a prediction that overlaps a distractor less than the threshold', () => {
    const pred = rows(['1,12,430,0,50,100,0.9']); // IoU 20/80 with the static person
    expect(countSequence(gt, pred, 0.5).preprocessing.predRemovedOnDistractor).toBe(0);
    expect(countSequence(gt, pred, 0.2).preprocessing.predRemovedOnDistractor).toBe(1);
  });

  it('treats ground truth without a class column, or with class -1, as pedestrians', () => {
    const sixColumns = rows(['1,1,0,0,50,100', '1,2,100,0,50,100']);
    const mot15 = rows(['1,1,0,0,50,100,1,-1,-1,-1', '1,2,100,0,50,100,0,-1,-1,-1']);
    expect(prepareSequence(sixColumns, rows([]), 0.5).counts.gtEvaluated).toBe(2);
    expect(prepareSequence(mot15, rows([]), 0.5).counts).toMatchObject({ gtEvaluated: 1, gtIgnoredConfZero: 1 });
  });

  it('counts every prediction whatever its conf', () => {
    const pred = rows(['1,10,0,0,50,100,0', '1,11,300,300,50,100,-1']);
    expect(sequenceMetrics(countSequence(gt, pred, 0.5)).PredDets).toBe(2);
  });

  it('rejects an id twice in one frame, naming the file and line', () => {
    const twice = rows(['1,1,0,0,5,5', '1,2,9,9,5,5', '1,1,20,20,5,5'], 'dup.txt');
    expect(() => prepareSequence(twice, rows([]), 0.5)).toThrow(/dup\.txt line 3: id 1 appears twice in frame 1/);
    expect(() => prepareSequence(rows([]), twice, 0.5)).toThrow(/dup\.txt line 3/);
  });
});

describe('MOT17-02-FRCNN ground truth, scored against itself', () => {
  const gt = readMotFile(path.join(dataDir(), 'replay/sequences/MOT17-02-FRCNN/gt/gt.txt'));

  it('evaluates the conf-1 pedestrians and removes the copies of distractor boxes', () => {
    const counts = countSequence(gt, gt, 0.5);
    // 156 rows: 88 conf-1 pedestrians; conf-0 rows of classes 2 (12), 7 (28), 8 (8) are
    // distractors; classes 4 (12, bicycle) and 9 (8, occluder) are not.
    expect(counts.preprocessing).toMatchObject({
      gtRows: 156, gtEvaluated: 88, gtIgnoredConfZero: 68, gtIgnoredClass: 0, predRows: 156,
      predRemovedOnDistractor: 48,
    });
    const m = sequenceMetrics(counts);
    expect([m.TP, m.FN, m.FP, m.IDSW, m.Frames]).toEqual([88, 0, 20, 0, 4]);
    expect(m.MOTA).toBeCloseTo(1 - 20 / 88, 12);
  });
});
