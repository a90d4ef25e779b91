/**
 * `panoptes eval instance` through its command function: the JSON it prints, its options, its
 * usage mistakes; and `panoptes run --save-instances` on the real dashcam clip scored against
 * itself through the real CLI.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { evalInstanceCommand } from '../../cli/eval-instance-command.ts';
import type { InstanceReport } from '../../evaluation/instance/evaluate.ts';
import { UsageError } from '../../lib/errors.ts';
import { dataDir } from '../helpers/data-dir.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = path.join(REPO, 'test/evaluation/instance/fixtures');
const root = mkdtempSync(path.join(tmpdir(), 'panoptes-eval-instance-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function run(args: readonly string[]): Promise<{ code: number; report: InstanceReport }> {
  let out = '';
  const code = await evalInstanceCommand(args, (text) => (out += text));
  return { code, report: JSON.parse(out) as InstanceReport };
}

interface HandCase { name: string; gt: unknown; results: unknown }
const hand = JSON.parse(readFileSync(path.join(FIXTURES, 'hand-worked-cases.json'), 'utf8')) as HandCase[];
const sizes = hand.find((c) => c.name === 'small-medium-large')!;
const gtFile = path.join(root, 'gt.json');
const predFile = path.join(root, 'pred.json');
writeFileSync(gtFile, JSON.stringify(sizes.gt));
writeFileSync(predFile, JSON.stringify(sizes.results));

describe('panoptes eval instance', () => {
  it('prints one JSON object: the twelve figures, per category, counts, rules and warnings', async () => {
    const { code, report } = await run(['--gt', gtFile, '--pred', predFile]);
    expect(code).toBe(0);
    expect(Object.keys(report)).toEqual([
      'iouType', 'AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl',
      'perCategory', 'images', 'groundTruth', 'results', 'rules', 'warnings',
    ]);
    expect(report.iouType).toBe('segm');
    expect([report.AP, report.APs, report.AR1]).toEqual([0.75, 0.5, 0]);
    // Precision is tp / (tp + fp + 2^-52), as pycocotools computes it: 1 of 1 is a hair below 1.
    expect(report.APm).toBeCloseTo(1, 12);
    expect(report.APl).toBeCloseTo(1, 12);
    expect(report.perCategory).toEqual([{ id: 1, name: 'thing', AP: 0.75, AP50: 0.75 }]);
    expect([report.images, report.groundTruth, report.results]).toEqual([1, 3, 4]);
    expect(report.rules.join('\n')).toMatch(/pycocotools/);
  });

  it('scores boxes with --iou-type bbox', async () => {
    const { report } = await run(['--gt', gtFile, '--pred', predFile, '--iou-type', 'bbox']);
    expect(report.iouType).toBe('bbox');
    expect(report.AP).toBe(0.75);
  });

  it('prints its usage with --help', async () => {
    let out = '';
    expect(await evalInstanceCommand(['--help'], (text) => (out += text))).toBe(0);
    expect(out).toMatch(/^panoptes eval instance --gt <instances\.json> --pred <results\.json> \[--iou-type segm\|bbox\]/);
  });

  it('reports usage mistakes as UsageError', async () => {
    await expect(evalInstanceCommand(['--pred', predFile])).rejects.toThrow(/--gt is required/);
    await expect(evalInstanceCommand(['--gt', gtFile])).rejects.toThrow(/--pred is required/);
    await expect(evalInstanceCommand(['--gt', gtFile, '--pred', predFile, '--iou-type', 'keypoints'])).rejects.toThrow(
      /--iou-type expects one of segm, bbox, got "keypoints"/,
    );
    await expect(evalInstanceCommand(['--gt', gtFile, '--pred', predFile, '--bogus'])).rejects.toThrow(UsageError);
  });
});

describe('panoptes run --save-instances, then panoptes eval instance', () => {
  function panoptes(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, [path.join(REPO, 'bin/panoptes.js'), ...args], {
      cwd: REPO,
      env: { ...process.env, PANOPTES_DATA: dataDir() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  }

  it('scores a real run of the dashcam clip against itself: AP 1 for masks and boxes', async () => {
    const results = path.join(root, 'run', 'dashcam.json');
    const ran = await panoptes(['run', 'configs/dashcam.yaml', '--no-realtime', '--max-frames', '8', '--port', '0', '--save-instances', results]);
    expect(ran.code, ran.stderr).toBe(0);
    const saved = JSON.parse(readFileSync(results, 'utf8')) as { image_id: number; track_id: number; segmentation: { size: number[] } }[];
    // The tracker confirms after 3 frames: confirmed cars from then on, full-frame masks.
    expect(saved.length).toBeGreaterThan(0);
    expect(saved.every((r) => r.track_id > 0 && r.segmentation.size.join('x') === '540x960')).toBe(true);
    for (const iouType of ['segm', 'bbox']) {
      const scored = await panoptes(['eval', 'instance', '--gt', path.join(root, 'run', 'dashcam.gt.json'), '--pred', results, '--iou-type', iouType]);
      expect(scored.code, scored.stderr).toBe(0);
      const report = JSON.parse(scored.stdout) as InstanceReport;
      expect([report.AP, report.AP50, report.AP75, report.AR100], iouType).toEqual([1, 1, 1, 1]);
      expect(report.images).toBe(8);
      expect(report.groundTruth).toBe(saved.length);
    }
  }, 180_000);
});
