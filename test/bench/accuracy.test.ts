/**
 * The accuracy bench scores what `panoptes run` writes, as `panoptes eval mot` scores it: two
 * cheap cases on the real MOT17-02 frames (the tracker alone on the public detections, and the
 * default dashcam config with its real models on the images through ffmpeg), each checked
 * against the CLI doing the same by hand. Figures are compared, not asserted to be good; no
 * speed is asserted.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchAccuracy, type AccuracyResult, type AccuracyRow } from '../../bench/accuracy.bench.ts';
import { formatAccuracy } from '../../bench/report.ts';
import type { MotReport } from '../../evaluation/mot/evaluate.ts';
import type { FrameRecord } from '../../nodes/sinks/frame-record.ts';
import { createMemoryLogger } from '../../pipeline/log.ts';
import { dataDir } from '../helpers/data-dir.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const SEQUENCE = path.join(dataDir(), 'replay/sequences/MOT17-02-FRCNN');
const scratch = mkdtempSync(path.join(tmpdir(), 'panoptes-accuracy-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const env = { ...process.env, PANOPTES_DATA: dataDir() };

function panoptes(args: string[]): string {
  return execFileSync(process.execPath, [path.join(REPO, 'bin/panoptes.js'), ...args], { cwd: REPO, env, stdio: 'pipe', maxBuffer: 1 << 24 }).toString();
}

/** `panoptes eval mot` on a file: its combined figures. */
function evalMot(pred: string): MotReport['combined'] {
  return (JSON.parse(panoptes(['eval', 'mot', '--gt', SEQUENCE, '--pred', pred])) as MotReport).combined;
}

function expectSameFigures(row: AccuracyRow, combined: MotReport['combined']): void {
  expect(row.tracks).toBeDefined();
  expect([row.tracks!.recall, row.tracks!.precision, row.tracks!.mota, row.tracks!.idf1, row.tracks!.hota, row.tracks!.tp, row.tracks!.fp, row.tracks!.fn]).toEqual([
    combined.Recall, combined.Precision, combined.MOTA, combined.IDF1, combined.HOTA, combined.TP, combined.FP, combined.FN,
  ]);
}

describe('panoptes bench --accuracy, on MOT17-02 frames 1-4', () => {
  let result: AccuracyResult;
  const rowOf = (config: string) => result.rows.find((r) => r.config === config)!;

  beforeAll(async () => {
    result = await benchAccuracy(
      { configs: ['configs/mot17-public-detections.yaml', 'configs/dashcam.yaml'], data: ['MOT17-02 frames 1-4'], motFilesIn: scratch },
      createMemoryLogger(),
      () => {},
    );
  }, 300_000);

  it('runs each case on the 4 annotated frames, without failure', () => {
    expect(result.rows.map((r) => [r.config, r.frames, r.failures])).toEqual([
      ['configs/mot17-public-detections.yaml', 4, []],
      ['configs/dashcam.yaml', 4, []],
    ]);
    // Every annotated pedestrian of the 4 frames is counted, found or missed.
    for (const row of result.rows) expect(row.tracks!.tp + row.tracks!.fn).toBe(row.detections!.tp + row.detections!.fn);
  });

  it('the public detections: the same file as panoptes run --mot-out, and the same figures as panoptes eval mot', () => {
    const byCli = path.join(scratch, 'by-cli-mot17.txt');
    panoptes(['run', 'configs/mot17-public-detections.yaml', '--max-frames', '4', '--mot-out', byCli]);
    const byBench = path.join(scratch, 'mot17-public-detections.txt');
    expect(readFileSync(byBench, 'utf8')).toBe(readFileSync(byCli, 'utf8'));
    expectSameFigures(rowOf('configs/mot17-public-detections.yaml'), evalMot(byCli));
  });

  it('the dashcam default on the images: its person tracks and segments score as eval mot scores what run --source writes', { timeout: 300_000 }, () => {
    const motOut = path.join(scratch, 'by-cli-dashcam.txt');
    const events = path.join(scratch, 'by-cli-dashcam.jsonl');
    const images = path.join(SEQUENCE, 'img1', '%06d.jpg');
    panoptes(['run', 'configs/dashcam.yaml', '--source', images, '--no-realtime', '--max-frames', '4', '--mot-out', motOut, '--events', events, '--port', '0']);
    const records = readFileSync(events, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string }).filter((r): r is FrameRecord => r.type === 'frame');
    expect(records.map((r) => [r.seq, r.width, r.height])).toEqual([0, 1, 2, 3].map((seq) => [seq, 1920, 1080]));

    // The person tracks of --mot-out (it writes every class; the events say which ids are people).
    const personIds = new Set(records.flatMap((r) => r.segments.filter((s) => s.className === 'person' && s.trackId !== undefined).map((s) => s.trackId!)));
    const personRows = readFileSync(motOut, 'utf8').trim().split('\n').filter((line) => personIds.has(Number(line.split(',')[1])));
    // Frame = seq + 1: image 000001.jpg is frame 1 of gt.txt; the dashcam confirms after 3 frames.
    expect(new Set(personRows.map((line) => Number(line.split(',')[0])))).toEqual(new Set([3, 4]));
    const personTracks = path.join(scratch, 'by-cli-dashcam-persons.txt');
    writeFileSync(personTracks, personRows.join('\n') + '\n');
    const row = rowOf('configs/dashcam.yaml');
    expect(readFileSync(path.join(scratch, 'dashcam.txt'), 'utf8')).toBe(personRows.join('\n') + '\n');
    expectSameFigures(row, evalMot(personTracks));

    // The person segments of --events, each its own track: eval mot's recall and precision are the bench's "det.".
    let id = 1;
    const segmentRows = records.flatMap((r) =>
      r.segments.filter((s) => s.className === 'person').map((s) => `${r.seq + 1},${id++},${s.bbox.join(',')},1,-1,-1,-1`),
    );
    const segments = path.join(scratch, 'by-cli-dashcam-segments.txt');
    writeFileSync(segments, segmentRows.join('\n') + '\n');
    const detections = evalMot(segments);
    expect([row.detections!.recall, row.detections!.precision, row.detections!.tp, row.detections!.fp]).toEqual([
      detections.Recall, detections.Precision, detections.TP, detections.FP,
    ]);
  });

  it('refuses a config that has no annotated data, and names the ones that have', () => {
    const run = spawnSync(process.execPath, [path.join(REPO, 'bin/panoptes.js'), 'bench', '--accuracy', 'configs/multi.yaml'], { cwd: REPO, env });
    expect(run.status).toBe(2);
    expect(run.stderr.toString()).toContain('--accuracy: configs/multi.yaml has no annotated data to be scored on; the configs that have: configs/mot17-public-detections.yaml');
  });
});

describe('panoptes bench --accuracy --ep cuda on a machine without CUDA', () => {
  it('says where the models really ran: their figure is a CPU one, not a GPU one', async () => {
    const result = await benchAccuracy({ configs: ['configs/dashcam.yaml'], data: ['MOT17-02 frames 1-4'], ep: 'cuda' }, createMemoryLogger(), () => {});
    const [row] = result.rows;
    expect(row!.executionProvider).toBe('cuda');
    expect(row!.providersUsed).toEqual({ 'espnetv2-s1.5': 'cpu', 'yolov8n-seg-320': 'cpu' });
    const line = formatAccuracy(result).split('\n').find((l) => l.includes('configs/dashcam.yaml'))!;
    expect(line).toContain(`${row!.fps.toFixed(2)}  not measured (cuda fell back to cpu)`);
  }, 300_000);
});
