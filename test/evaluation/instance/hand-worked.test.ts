/**
 * `eval instance` on cases small enough to work out by hand (fixtures/hand-worked-cases.json,
 * each with the reasoning behind its figures; pycocotools gives the same figures, which
 * make-pycocotools-cases.py checks when it regenerates the fixtures): a perfect match, a
 * duplicate, score ties, a crowd region, small, medium and large objects, a category and an
 * image without ground truth, a polygon against the RLE of the same mask.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluateInstanceFiles, evaluateInstances } from '../../../evaluation/instance/evaluate.ts';
import { parseCocoInstances, parseCocoResults } from '../../../lib/formats/coco-instances.ts';

const STATS = ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl'] as const;

interface HandCase {
  name: string;
  why: string;
  gt: unknown;
  results: unknown;
  expected: Record<(typeof STATS)[number], number> & { perCategory: { id: number; AP: number; AP50: number }[] };
}

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const cases = JSON.parse(readFileSync(path.join(FIXTURES, 'hand-worked-cases.json'), 'utf8')) as HandCase[];
const byName = (name: string): HandCase => cases.find((c) => c.name === name)!;
const evaluate = (c: HandCase, iouType?: 'segm' | 'bbox') =>
  evaluateInstanceFiles(parseCocoInstances(c.gt, c.name), parseCocoResults(c.results, c.name), iouType);

describe('hand-worked cases', () => {
  for (const c of cases) {
    for (const iouType of ['segm', 'bbox'] as const) {
      it(`${c.name} (${iouType}): ${c.why}`, () => {
        const report = evaluate(c, iouType);
        expect(report.iouType).toBe(iouType);
        for (const stat of STATS) expect(report[stat], stat).toBeCloseTo(c.expected[stat], 12);
        expect(report.perCategory.map(({ id, AP, AP50 }) => ({ id, AP, AP50 }))).toEqual(
          c.expected.perCategory.map(({ id, AP, AP50 }) => ({ id, AP: expect.closeTo(AP, 12), AP50: expect.closeTo(AP50, 12) })),
        );
      });
    }
  }

  it('says what it did not evaluate', () => {
    const report = evaluate(byName('category-without-ground-truth'));
    expect(report.warnings).toEqual(['1 results have a category_id not in the ground truth\'s categories; not evaluated']);
    expect([report.images, report.groundTruth, report.results]).toEqual([2, 1, 3]);
    expect(report.perCategory.map((p) => p.name)).toEqual(['cat', 'dog']);
  });

  it('scores masks when the results carry them, boxes when they do not', () => {
    expect(evaluate(byName('polygon-vs-rle')).iouType).toBe('segm');
    const boxesOnly = byName('perfect-match');
    const results = (boxesOnly.results as { segmentation?: unknown }[]).map(({ segmentation: _, ...rest }) => rest);
    expect(evaluateInstanceFiles(parseCocoInstances(boxesOnly.gt, 'gt'), parseCocoResults(results, 'pred')).iouType).toBe('bbox');
  });

  it('keeps at most 100 detections per image, the best-scored', () => {
    // 100 false alarms scored above one exact detection push it out of every image's top 100.
    const c = byName('perfect-match');
    const alarms = Array.from({ length: 100 }, (_, i) => ({ image_id: 1, category_id: 1, score: 0.95, bbox: [60 + (i % 10), 60, 5, 5] }));
    const results = [...alarms, { image_id: 1, category_id: 1, score: 0.9, bbox: [10, 10, 40, 40] }];
    const report = evaluateInstanceFiles(parseCocoInstances(c.gt, 'gt'), parseCocoResults(results, 'pred'), 'bbox');
    expect(report.AR100).toBe(0);
    expect(report.AP).toBe(0);
    // One alarm fewer and it is the 100th: found, after 99 false positives.
    const report99 = evaluateInstanceFiles(parseCocoInstances(c.gt, 'gt'), parseCocoResults(results.slice(1), 'pred'), 'bbox');
    expect(report99.AR100).toBe(1);
    expect(report99.AP).toBeCloseTo(1 / 100, 12);
  });
});

describe('files and mistakes', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'panoptes-eval-instance-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const put = (name: string, value: unknown): string => {
    const file = path.join(root, name);
    writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
    return file;
  };
  const c = byName('small-medium-large');
  const gt = put('gt.json', c.gt);
  const pred = put('pred.json', c.results);

  it('reads the two files', () => {
    expect(evaluateInstances({ gt, pred }).AP).toBeCloseTo(0.75, 12);
  });

  it.each([
    ['the results in place of the ground truth', () => evaluateInstances({ gt: pred, pred }), /gt\.json|pred\.json: the file is a list, as COCO results are; ground truth is an object/],
    ['the ground truth in place of the results', () => evaluateInstances({ gt, pred: gt }), /the file is an object with annotations, as ground truth is; COCO results are a list/],
    ['a missing file', () => evaluateInstances({ gt: path.join(root, 'none.json'), pred }), /--gt .*none\.json: cannot read it/],
    ['a file that is not JSON', () => evaluateInstances({ gt: put('bad.json', '{"images": ['), pred }), /--gt .*bad\.json: not JSON/],
    ['ground truth without categories', () => evaluateInstances({ gt: put('nocat.json', { images: [], annotations: [] }), pred }), /has no "categories"/],
    ['a result on an image the ground truth lacks', () => evaluateInstances({ gt, pred: put('other.json', [{ image_id: 9, category_id: 1, score: 1, bbox: [0, 0, 1, 1] }]) }), /result \[0\]: image_id 9 is not an image of the ground truth/],
    ['a malformed box', () => evaluateInstances({ gt, pred: put('box.json', [{ image_id: 1, category_id: 1, score: 1, bbox: [0, 0, 1] }]) }), /result \[0\]\.bbox must be \[x, y, width, height\]/],
    ['a result with neither box nor mask', () => evaluateInstances({ gt, pred: put('empty.json', [{ image_id: 1, category_id: 1, score: 1 }]) }), /result \[0\] has neither bbox nor segmentation/],
    ['a broken compressed RLE', () => evaluateInstances({ gt, pred: put('rle.json', [{ image_id: 1, category_id: 1, score: 1, segmentation: { size: [200, 200], counts: 'ab~' } }]) }), /result \[0\]\.segmentation: character "~" at 2 is not one of a compressed RLE/],
    ['an RLE that does not cover its size', () => evaluateInstances({ gt, pred: put('short.json', [{ image_id: 1, category_id: 1, score: 1, segmentation: { size: [200, 200], counts: [5, 5] } }]) }), /the counts cover 10 pixels but the size 200x200 has 40000/],
    ['an annotation id used twice', () => evaluateInstances({ gt: put('twice.json', { ...(c.gt as object), annotations: [...(c.gt as { annotations: object[] }).annotations, (c.gt as { annotations: object[] }).annotations[0]] }), pred }), /the id is used twice; annotation ids must be unique/],
  ])('refuses %s, saying what is wrong', (_, call, message) => {
    expect(call).toThrow(message);
  });
});
