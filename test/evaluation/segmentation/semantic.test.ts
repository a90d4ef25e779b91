/**
 * `eval semantic` on label maps small enough to score by hand. Each expected value is worked out
 * in the comment above it from the drawn maps.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../../lib/errors.ts';
import { evalSegmentationCommand } from '../../../cli/eval-segmentation-command.ts';
import type { SemanticEvalResult } from '../../../evaluation/segmentation/evaluate-semantic.ts';
import { grid, tempFolder, writeGreyPng } from './fixtures.ts';

let root: string;
let remove: () => Promise<void>;
beforeAll(async () => ({ dir: root, remove } = await tempFolder()));
afterAll(() => remove());

// Characters are class indices; '#' is the ignore label 255.
const LEGEND = { '0': 0, '1': 1, '2': 2, '3': 3, '#': 255 };

/** Writes gt and pred maps under a fresh case folder; returns the two folders. */
async function writeCase(name: string, images: Record<string, { gt: string[]; pred: string[] }>) {
  const gtDir = path.join(root, name, 'gt');
  const predDir = path.join(root, name, 'pred');
  for (const [file, maps] of Object.entries(images)) {
    await writeGreyPng(path.join(gtDir, file), grid(maps.gt, LEGEND));
    await writeGreyPng(path.join(predDir, file), grid(maps.pred, LEGEND));
  }
  return { gtDir, predDir };
}

async function evalSemantic(args: string[]): Promise<SemanticEvalResult> {
  let out = '';
  const code = await evalSegmentationCommand('semantic', args, (s) => (out += s));
  expect(code).toBe(0);
  return JSON.parse(out) as SemanticEvalResult;
}

describe('eval semantic', () => {
  it('scores one image by hand: IoU, Dice, accuracies, an ignored region and an empty class', async () => {
    const { gtDir, predDir } = await writeCase('basic', {
      'a.png': {
        gt: ['0011', '0011', '222#', '222#'],
        pred: ['0001', '0111', '2210', '2222'],
      },
    });
    const result = await evalSemantic(['--gt', gtDir, '--pred', predDir, '--classes', '4', '--ignore', '255']);
    // The two '#' pixels are not scored (whatever was predicted there): 14 pixels remain.
    // Confusion (rows gt, columns pred): gt 0 → {0: 3, 1: 1}; gt 1 → {0: 1, 1: 3}; gt 2 → {1: 1, 2: 5}.
    // Class 0: TP 3, FP 1 (a gt-1 pixel), FN 1 → IoU 3/5, Dice 6/8, accuracy 3/4.
    // Class 1: TP 3, FP 2 (one gt-0, one gt-2 pixel), FN 1 → IoU 3/6, Dice 6/9, accuracy 3/4.
    // Class 2: TP 5, FP 0, FN 1 → IoU 5/6, Dice 10/11, accuracy 5/6.
    // Class 3: in neither map → null everywhere, left out of the means.
    expect(result.perClass.map((c) => c.iou)).toEqual([3 / 5, 3 / 6, 5 / 6, null]);
    expect(result.perClass.map((c) => c.dice)).toEqual([6 / 8, 6 / 9, 10 / 11, null]);
    expect(result.perClass.map((c) => c.accuracy)).toEqual([3 / 4, 3 / 4, 5 / 6, null]);
    expect(result.mIoU).toBeCloseTo((3 / 5 + 3 / 6 + 5 / 6) / 3, 12);
    expect(result.meanDice).toBeCloseTo((6 / 8 + 6 / 9 + 10 / 11) / 3, 12);
    // Pixel accuracy: 3 + 3 + 5 right of 14; mean accuracy over the 3 classes in the ground truth.
    expect(result.pixelAccuracy).toBeCloseTo(11 / 14, 12);
    expect(result.meanAccuracy).toBeCloseTo((3 / 4 + 3 / 4 + 5 / 6) / 3, 12);
    expect(result).toMatchObject({
      images: 1,
      classesInMeans: 3,
      classesInGroundTruth: 3,
      pixels: { evaluated: 14, ignored: 2, predictedNoClass: 0 },
    });
  });

  it('counts a class that is only predicted (IoU 0) and a void prediction as a miss', async () => {
    const { gtDir, predDir } = await writeCase('only-predicted', {
      'a.png': { gt: ['0000', '1111'], pred: ['0033', '11##'] },
    });
    const result = await evalSemantic(['--gt', gtDir, '--pred', predDir, '--classes', '4', '--ignore', '255']);
    // Class 0: TP 2, FN 2 (predicted 3) → IoU 1/2. Class 1: TP 2, FN 2 (predicted void) → IoU 1/2.
    // Class 3: TP 0, FP 2 → IoU 0, and it counts in the mean. Class 2: absent → null.
    // Class 3 has no ground truth, so its accuracy is null and mean accuracy is over classes 0 and 1.
    expect(result.perClass.map((c) => c.iou)).toEqual([0.5, 0.5, null, 0]);
    expect(result.mIoU).toBeCloseTo(1 / 3, 12);
    expect(result.meanAccuracy).toBe(0.5);
    expect(result.pixelAccuracy).toBe(0.5);
    expect(result.pixels).toEqual({ evaluated: 8, ignored: 0, predictedNoClass: 2 });
  });

  it('pools pixels of all images into one matrix (it does not average per image)', async () => {
    const { gtDir, predDir } = await writeCase('pooled', {
      'one.png': { gt: ['00', '00'], pred: ['00', '00'] },
      'sub/two.png': { gt: ['0000', '0000'], pred: ['1111', '1111'] },
    });
    const result = await evalSemantic(['--gt', gtDir, '--pred', predDir, '--classes', '2']);
    // Class 0: TP 4 (one.png), FN 8 (two.png) → 4/12, not the per-image mean (1 + 0)/2.
    // Class 1: FP 8, TP 0 → IoU 0.
    expect(result.images).toBe(2);
    expect(result.perClass[0].iou).toBeCloseTo(1 / 3, 12);
    expect(result.perClass[1].iou).toBe(0);
  });

  it('names the file and the fix for a label outside the classes, a missing prediction, a size mismatch', async () => {
    const outside = await writeCase('outside', { 'a.png': { gt: ['0#'], pred: ['00'] } });
    await expect(evalSemantic(['--gt', outside.gtDir, '--pred', outside.predDir, '--classes', '2'])).rejects.toThrow(
      /a\.png: 1 ground-truth pixels have a value ≥ --classes 2 \(e\.g\. 255\); if 255 marks unlabeled pixels, pass --ignore 255/,
    );

    const missing = await writeCase('missing', { 'a.png': { gt: ['0'], pred: ['0'] } });
    await writeGreyPng(path.join(missing.gtDir, 'b.png'), grid(['0'], LEGEND));
    await expect(evalSemantic(['--gt', missing.gtDir, '--pred', missing.predDir, '--classes', '2'])).rejects.toThrow(
      /--pred .*: 1 of 2 ground-truth label maps have no prediction of the same relative path \(first: b\.png\)/,
    );

    const sizes = await writeCase('sizes', { 'a.png': { gt: ['00'], pred: ['0'] } });
    await expect(evalSemantic(['--gt', sizes.gtDir, '--pred', sizes.predDir, '--classes', '2'])).rejects.toThrow(
      /a\.png: 1x1, but its ground truth .*a\.png is 2x1; predictions must be at the ground truth's resolution/,
    );
  });

  it('rejects flag mistakes as usage errors', async () => {
    await expect(evalSemantic(['--gt', 'g', '--pred', 'p'])).rejects.toThrow(new UsageError('--classes is required'));
    await expect(evalSemantic(['--gt', 'g', '--pred', 'p', '--classes', 'many'])).rejects.toThrow(
      /--classes expects a whole number from 1 to 4096, got "many"/,
    );
    await expect(evalSemantic(['--gt', 'g', '--pred', 'p', '--classes', '3', '--colour'])).rejects.toBeInstanceOf(UsageError);
    await expect(evalSemantic(['--gt', path.join(root, 'nowhere'), '--pred', 'p', '--classes', '3'])).rejects.toThrow(
      /--gt .*nowhere: no such folder/,
    );
  });
});
