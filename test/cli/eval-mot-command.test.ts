/**
 * `panoptes eval mot` end to end on folders laid out as MOTChallenge does, calling the command
 * with its own writer: the JSON it prints, combined figures from summed counts, and its errors.
 */
import { copyFileSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evalMotCommand } from '../../cli/eval-mot-command.ts';
import type { MotMetrics, MotReport } from '../../evaluation/mot/evaluate.ts';
import { UsageError } from '../../lib/errors.ts';
import { dataDir } from '../helpers/data-dir.ts';

const campus = path.join(dataDir(), 'replay/metrics/TUD-Campus');
const root = mkdtempSync(path.join(tmpdir(), 'panoptes-eval-mot-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function place(relative: string, from: string | null, text = ''): string {
  const file = path.join(root, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  if (from) copyFileSync(from, file);
  else writeFileSync(file, text);
  return file;
}

/** Runs the command; returns its exit code and the JSON it printed. */
async function run(args: readonly string[]): Promise<{ code: number; report: MotReport }> {
  let out = '';
  const code = await evalMotCommand(args, (text) => (out += text));
  return { code, report: JSON.parse(out) as MotReport };
}

// Two copies of TUD-Campus, and a third sequence the tracker has no output for.
place('gt/campus-a/gt/gt.txt', path.join(campus, 'gt.txt'));
place('gt/campus-b/gt/gt.txt', path.join(campus, 'gt.txt'));
place('gt/walk/gt/gt.txt', null, ['1,1,0,0,40,90,1,1,1', '2,1,2,0,40,90,1,1,1', '2,2,300,0,40,90,1,1,1'].join('\n'));
place('pred/campus-a.txt', path.join(campus, 'test.txt'));
place('pred/campus-b.txt', path.join(campus, 'test.txt'));
place('pred/stray.txt', null, '1,1,0,0,10,10,1\n');

const RATIOS = ['MOTA', 'MOTP', 'MOTPDistance', 'IDF1', 'IDP', 'IDR', 'Recall', 'Precision', 'HOTA', 'DetA', 'AssA', 'LocA'] as const;

describe('panoptes eval mot', () => {
  it('prints one JSON object with the reference figures for one file against one file', async () => {
    const { code, report } = await run(['--gt', path.join(campus, 'gt.txt'), '--pred', path.join(campus, 'test.txt')]);
    expect(code).toBe(0);
    expect(report.iouThreshold).toBe(0.5);
    expect(report.rules.length).toBeGreaterThan(0);
    expect(Object.keys(report.sequences)).toEqual(['TUD-Campus']);
    const m = report.sequences['TUD-Campus']!;
    expect(m.IDF1).toBeCloseTo(0.557659, 3);
    expect(m.MOTA).toBeCloseTo(0.526462, 3);
    expect(m.HOTA).toBeCloseTo(0.3913974378451139, 3);
    expect([m.FP, m.FN, m.IDSW, m.GTIDs, m.Frames]).toEqual([13, 150, 7, 8, 71]);
    expect(report.combined).toEqual(m);
    expect(report.warnings).toEqual([]);
  });

  it('evaluates folders by sequence name, scoring a missing prediction as empty and saying so', async () => {
    const { report } = await run(['--gt', path.join(root, 'gt'), '--pred', path.join(root, 'pred')]);
    expect(Object.keys(report.sequences)).toEqual(['campus-a', 'campus-b', 'walk']);
    expect(report.missingPredictions).toEqual(['walk']);
    expect(report.unmatchedPredictions).toEqual(['stray']);
    expect(report.warnings.join('\n')).toMatch(/sequence walk: no prediction file walk\.txt, scored as an empty prediction/);
    expect(report.warnings.join('\n')).toMatch(/prediction stray\.txt has no ground-truth sequence/);
    const walk = report.sequences['walk']!;
    expect([walk.FN, walk.FP, walk.TP, walk.ML, walk.GTIDs, walk.PredDets]).toEqual([3, 0, 0, 2, 2, 0]);
    expect(report.preprocessing['campus-a']).toMatchObject({ gtRows: 359, gtEvaluated: 359, predRows: 222 });
  });

  it('combines sequences from summed counts: the same sequence twice scores the same, with twice the counts', async () => {
    const twice = path.join(root, 'twice');
    place('twice/gt/campus-a/gt/gt.txt', path.join(campus, 'gt.txt'));
    place('twice/gt/campus-b/gt/gt.txt', path.join(campus, 'gt.txt'));
    const { report } = await run(['--gt', path.join(twice, 'gt'), '--pred', path.join(root, 'pred')]);
    const one = report.sequences['campus-a']!;
    const both = report.combined;
    for (const name of RATIOS) expect(both[name], name).toBeCloseTo(one[name], 12);
    for (const name of ['FP', 'FN', 'TP', 'IDSW', 'MT', 'PT', 'ML', 'Frag', 'GTIDs', 'IDTP', 'Frames'] as const) {
      expect(both[name], name).toBe(2 * one[name]);
    }
  });

  it('combines different sequences from summed counts, not by averaging', async () => {
    const { report } = await run(['--gt', path.join(root, 'gt'), '--pred', path.join(root, 'pred')]);
    const parts: MotMetrics[] = Object.values(report.sequences);
    const sum = (f: (m: MotMetrics) => number): number => parts.reduce((total, m) => total + f(m), 0);
    const c = report.combined;
    expect(c.FN).toBe(sum((m) => m.FN));
    expect(c.MOTA).toBeCloseTo(1 - sum((m) => m.FN + m.FP + m.IDSW) / sum((m) => m.GTDets), 12);
    expect(c.IDF1).toBeCloseTo((2 * sum((m) => m.IDTP)) / (sum((m) => m.GTDets) + sum((m) => m.PredDets)), 12);
    expect(c.MOTA).not.toBeCloseTo(sum((m) => m.MOTA) / parts.length, 3);
    // HOTA weighs association by true positives, so the empty sequence only adds misses.
    expect(c.AssA).toBeCloseTo(report.sequences['campus-a']!.AssA, 12);
    expect(c.DetA).toBeLessThan(report.sequences['campus-a']!.DetA);
  });

  it('takes a sequence folder holding gt/gt.txt, and another IoU threshold', async () => {
    const { report } = await run(['--gt', path.join(root, 'gt/campus-a'), '--pred', path.join(root, 'pred'), '--iou', '0.7']);
    expect(report.iouThreshold).toBe(0.7);
    const m = report.sequences['campus-a']!;
    expect(m.TP).toBeLessThan(209); // stricter matching than at 0.5
    expect(m.HOTA).toBeCloseTo(0.3913974378451139, 12); // HOTA sweeps its own thresholds
  });

  it('scores a MOT15 ground truth with world coordinates exactly as the same file with -1 there', async () => {
    const gtLines = readFileSync(path.join(campus, 'gt.txt'), 'utf8').trim().split('\n');
    // World coordinates as MOT15 writes them: real numbers, some that could pass for a class or a visibility.
    const world = gtLines.map((line, i) => {
      const head = line.split(',').slice(0, 7).join(',');
      return i % 3 === 0 ? `${head},${(-4.4852 + i * 0.01).toFixed(4)},${(-0.58565 * i).toFixed(5)},0` : `${head},${i % 12},${i},-1`;
    });
    const minusOne = gtLines.map((line) => `${line.split(',').slice(0, 7).join(',')},-1,-1,-1`);
    const worldFile = place('mot15/world/TUD-Campus.txt', null, world.join('\n'));
    const minusOneFile = place('mot15/minus-one/TUD-Campus.txt', null, minusOne.join('\n'));
    const pred = path.join(campus, 'test.txt');
    const auto = (await run(['--gt', worldFile, '--pred', pred])).report;
    const forced = (await run(['--gt', worldFile, '--pred', pred, '--gt-format', 'mot15'])).report;
    const plain = (await run(['--gt', minusOneFile, '--pred', pred])).report;
    expect(auto.gtFormat).toMatchObject({ option: 'auto', sequences: { 'TUD-Campus': 'mot15' } });
    expect(auto.gtFormat.rule).toMatch(/MOT15 when some row has 10 values/);
    expect(forced.gtFormat.sequences).toEqual({ 'TUD-Campus': 'mot15' });
    expect(plain.gtFormat.sequences).toEqual({ 'TUD-Campus': 'mot16' });
    expect(auto.sequences).toEqual(plain.sequences);
    expect(forced.sequences).toEqual(plain.sequences);
    expect(auto.preprocessing).toEqual(plain.preprocessing);
    expect(plain.sequences['TUD-Campus']!.MOTA).toBeCloseTo(0.526462, 3);
    // Read as MOT16, a world coordinate is taken for a class, and refused.
    await expect(run(['--gt', worldFile, '--pred', pred, '--gt-format', 'mot16'])).rejects.toThrow(/class "-4\.4852" is not a whole number/);
  });

  it('refuses an unknown --gt-format', async () => {
    await expect(evalMotCommand(['--gt', 'x', '--pred', 'y', '--gt-format', 'mot17'])).rejects.toThrow(/--gt-format expects one of auto, mot15, mot16, got "mot17"/);
  });

  it('prints its usage with --help', async () => {
    let out = '';
    expect(await evalMotCommand(['--help'], (text) => (out += text))).toBe(0);
    expect(out).toMatch(/panoptes eval mot --gt <gt> --pred <pred> \[--iou 0\.5\]/);
  });

  it('reports usage mistakes as UsageError', async () => {
    await expect(evalMotCommand(['--pred', 'x'])).rejects.toThrow(UsageError);
    await expect(evalMotCommand(['--gt', 'x'])).rejects.toThrow(/--pred is required/);
    await expect(evalMotCommand(['--gt', 'x', '--pred', 'y', '--iou', '1.5'])).rejects.toThrow(/--iou expects a number in \(0, 1\], got "1\.5"/);
    await expect(evalMotCommand(['--gt', 'x', '--pred', 'y', '--iou', 'abc'])).rejects.toThrow(UsageError);
    await expect(evalMotCommand(['--gt', 'x', '--pred', 'y', '--frobnicate'])).rejects.toThrow(UsageError);
  });

  it('names the file, the line and the fix for a malformed file', async () => {
    const bad = place('bad/gt.txt', null, '1,1,0,0,10,10,1,1,1\n1,2,0,0,10\n');
    await expect(run(['--gt', bad, '--pred', path.join(campus, 'test.txt')])).rejects.toThrow(
      /bad\/gt\.txt line 2: found 5 values; each line must be frame,id,left,top,width,height/,
    );
    await expect(run(['--gt', path.join(root, 'nowhere'), '--pred', bad])).rejects.toThrow(/--gt .*nowhere: no such file or folder/);
  });
});
