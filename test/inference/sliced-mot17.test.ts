/**
 * Sliced inference on a real crowd frame: MOT17-02 (1920x1080, about 20 annotated pedestrians
 * per frame), frames 1-4, scored against the sequence's ground truth with the same rules as
 * `panoptes eval mot` (evaluation/mot: pedestrians only, detections on distractors removed,
 * IoU >= 0.5). The printed table gives recall, precision and the measured time per slice and
 * per merge (CPU, this machine, whatever else is running: figures, not assertions).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearCounts, clearMetrics } from '../../evaluation/mot/clear-metrics.ts';
import { prepareSequence } from '../../evaluation/mot/preprocess.ts';
import { parseMotText } from '../../lib/formats/mot-file.ts';
import { boxIou } from '../../lib/geometry/box.ts';
import { createDetectorRun, decoderFor, type DetectorResult } from '../../nodes/heads/detector-run.ts';
import { findModel, loadModelCatalog } from '../../nodes/inference/model-catalog.ts';
import { openModelSession, type ModelSession } from '../../nodes/inference/model-session.ts';
import type { RgbImage } from '../../nodes/inference/preprocess.ts';
import { slicesSchema, type SlicesOptions } from '../../nodes/inference/slices.ts';
import { ffmpegPath } from '../../nodes/sources/ffmpeg-binary.ts';
import type { Instances } from '../../pipeline/frame.ts';
import { createMemoryLogger } from '../../pipeline/log.ts';
import { dataDir } from '../helpers/data-dir.ts';

const SEQUENCE = path.join(dataDir(), 'replay/sequences/MOT17-02-FRCNN');
const FRAMES = [1, 2, 3, 4];
const W = 1920;
const H = 1080;
const catalog = loadModelCatalog();

function readFrame(index: number): RgbImage {
  const file = path.join(SEQUENCE, 'img1', `${String(index).padStart(6, '0')}.jpg`);
  const data = execFileSync(ffmpegPath().path, ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], {
    maxBuffer: W * H * 3 + 1024,
  });
  return { width: W, height: H, data: new Uint8Array(data) };
}

/** The ground truth of the frames used, as a MOT file's text. */
const gtText = readFileSync(path.join(SEQUENCE, 'gt/gt.txt'), 'utf8')
  .split('\n')
  .filter((line) => FRAMES.includes(Number(line.split(',')[0])))
  .join('\n');
const gt = parseMotText(gtText, 'MOT17-02 gt frames 1-4');

/** Pedestrian ground-truth boxes of a frame (class 1, conf 1), [x1, y1, x2, y2]. */
function pedestrians(frame: number): number[][] {
  const boxes: number[][] = [];
  for (let r = 0; r < gt.count; r++) {
    if (gt.frame[r] === frame && gt.classId[r] === 1 && gt.conf[r] !== 0) {
      boxes.push([gt.left[r]!, gt.top[r]!, gt.left[r]! + gt.width[r]!, gt.top[r]! + gt.height[r]!]);
    }
  }
  return boxes;
}

function personBoxes(instances: Instances): number[][] {
  const person = instances.classes.names.indexOf('person');
  const boxes: number[][] = [];
  for (let i = 0; i < instances.count; i++) {
    if (instances.classIds[i] === person) boxes.push(Array.from(instances.boxes.subarray(i * 4, i * 4 + 4)));
  }
  return boxes;
}

/** Recall and precision of the person instances of every frame, as `panoptes eval mot` counts them. */
function score(perFrame: ReadonlyMap<number, Instances>): { recall: number; precision: number; tp: number; fp: number; fn: number } {
  const rows: string[] = [];
  let id = 1;
  for (const [frame, instances] of perFrame) {
    for (const [x1, y1, x2, y2] of personBoxes(instances)) rows.push(`${frame},${id++},${x1},${y1},${x2! - x1!},${y2! - y1!},1`);
  }
  const pred = parseMotText(rows.join('\n'), 'detections');
  const counts = clearCounts(prepareSequence(gt, pred, 0.5), 0.5);
  const m = clearMetrics(counts);
  return { recall: m.Recall, precision: m.Precision, tp: counts.TP, fp: counts.FP, fn: counts.FN };
}

interface Setup {
  readonly name: string;
  readonly model: string;
  readonly slices?: SlicesOptions;
  readonly minScore?: number;
}

const slices = (raw: unknown): SlicesOptions => slicesSchema.parse(raw);
const SETUPS: readonly Setup[] = [
  { name: '320 full frame', model: 'yolov8n-seg-320' },
  { name: '640 full frame', model: 'yolov8n-seg-640' },
  { name: '640, 2x3 slices, overlap 0.2', model: 'yolov8n-seg-640', slices: slices({ grid: [2, 3], overlap: 0.2 }) },
  { name: '640, 2x3 slices + full frame', model: 'yolov8n-seg-640', slices: slices({ grid: [2, 3], overlap: 0.2, fullFrame: true }) },
  { name: '640 detect head, 2x3 slices', model: 'yolov8n-640', slices: slices({ grid: [2, 3], overlap: 0.2 }) },
  { name: '640, 2x3 slices, minScore 0.4', model: 'yolov8n-seg-640', slices: slices({ grid: [2, 3], overlap: 0.2 }), minScore: 0.4 },
  { name: '640, 640x640 slices (2x4, native scale)', model: 'yolov8n-seg-640', slices: slices({ size: [640, 640], overlap: 0.2 }) },
];

describe('sliced inference on a real crowd frame (MOT17-02, frames 1-4)', () => {
  const sessions = new Map<string, ModelSession>();
  const frames = new Map<number, RgbImage>();
  const results = new Map<string, Map<number, DetectorResult>>();

  beforeAll(async () => {
    for (const f of FRAMES) frames.set(f, readFrame(f));
    for (const model of new Set(SETUPS.map((s) => s.model))) {
      sessions.set(model, await openModelSession(findModel(catalog, model), dataDir(), ['cpu'], createMemoryLogger()));
    }
    for (const setup of SETUPS) {
      const session = sessions.get(setup.model)!;
      const decode = decoderFor(session.entry, { minScore: setup.minScore ?? 0.25, iouThreshold: 0.45, maxDetections: 300 });
      const detect = createDetectorRun(session, decode, setup.slices, 300);
      const perFrame = new Map<number, DetectorResult>();
      for (const f of FRAMES) perFrame.set(f, await detect(frames.get(f)!));
      results.set(setup.name, perFrame);
    }
  }, 600_000);

  afterAll(async () => {
    for (const session of sessions.values()) await session.release();
  });

  const scoreOf = (name: string) => score(new Map([...results.get(name)!].map(([f, r]) => [f, r.instances])));

  it('prints recall, precision and the time per slice and per merge', () => {
    const lines = ['setup | recall | precision | TP/FP/FN | slices | model ms per slice (median) | decode ms per frame (median) | merge ms per frame (median)'];
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    for (const setup of SETUPS) {
      const s = scoreOf(setup.name);
      const runs = [...results.get(setup.name)!.values()];
      const runMs = runs.flatMap((r) => r.runMs ?? []);
      const mergeMs = runs.map((r) => r.mergeMs ?? NaN);
      const decodeMs = runs.map((r) => r.decodeMs ?? NaN);
      lines.push(
        `${setup.name} | ${s.recall.toFixed(3)} | ${s.precision.toFixed(3)} | ${s.tp}/${s.fp}/${s.fn} | ${runs[0]!.slices?.length ?? 1} | ` +
          `${runMs.length ? median(runMs).toFixed(0) : '-'} | ${setup.slices ? median(decodeMs).toFixed(1) : '-'} | ${setup.slices ? median(mergeMs).toFixed(2) : '-'}`,
      );
      expect(s.tp + s.fn).toBe(FRAMES.reduce((n, f) => n + pedestrians(f).length, 0));
    }
    console.log(lines.join('\n'));
  });

  it('slices at 640 find more of the people than the whole frame at 320, and at 640', () => {
    const at320 = scoreOf('320 full frame');
    const at640 = scoreOf('640 full frame');
    const sliced = scoreOf('640, 2x3 slices, overlap 0.2');
    expect(sliced.tp).toBeGreaterThan(at640.tp);
    expect(at640.tp).toBeGreaterThan(at320.tp);
    expect(sliced.recall).toBeGreaterThan(2 * at320.recall);
  });

  it('no person comes out twice: at most one detection matches each annotated pedestrian', () => {
    for (const setup of SETUPS.filter((s) => s.slices)) {
      for (const f of FRAMES) {
        const found = personBoxes(results.get(setup.name)!.get(f)!.instances);
        for (const person of pedestrians(f)) {
          const matches = found.filter((box) => boxIou(box, person) >= 0.5).length;
          expect(matches, `${setup.name}, frame ${f}, person at ${person.map(Math.round).join(',')}`).toBeLessThanOrEqual(1);
        }
      }
    }
  });

  it('the detect head alone finds the same people as the segmentation model at 640', () => {
    const seg = personBoxes(results.get('640, 2x3 slices, overlap 0.2')!.get(1)!.instances);
    const det = personBoxes(results.get('640 detect head, 2x3 slices')!.get(1)!.instances);
    expect(det.length).toBe(seg.length);
    for (const box of det) expect(Math.max(...seg.map((b) => boxIou(b, box)))).toBeGreaterThan(0.95);
    expect(results.get('640 detect head, 2x3 slices')!.get(1)!.instances.masks).toBeUndefined();
  });
});
