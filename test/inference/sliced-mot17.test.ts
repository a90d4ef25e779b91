/**
 * Sliced inference on a real crowd frame: MOT17-02 (1920x1080, 22 annotated pedestrians per
 * frame), frames 1-4, scored against the sequence's ground truth with the same rules as
 * `panoptes eval mot` (evaluation/mot: pedestrians only, detections on distractors removed,
 * IoU >= 0.5). The printed table gives recall, precision and the measured time per slice and
 * per merge (CPU, this machine, whatever else is running: figures, not assertions), with MOT17's
 * public FRCNN detections of the same frames as a reference. docs/configs.md "Sliced inference" quotes it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearCounts, clearMetrics } from '../../evaluation/mot/clear-metrics.ts';
import { prepareSequence } from '../../evaluation/mot/preprocess.ts';
import { parseMotText } from '../../lib/formats/mot-file.ts';
import { boxIou } from '../../lib/geometry/box.ts';
import { classFilter, createDetectorRun, decoderFor, type DetectorResult } from '../../nodes/heads/detector-run.ts';
import { findModel, loadModelCatalog } from '../../nodes/inference/model-catalog.ts';
import { openModelSession, type ModelSession } from '../../nodes/inference/model-session.ts';
import type { RgbImage } from '../../nodes/inference/preprocess.ts';
import { slicesSchema, type SlicesOptions } from '../../nodes/inference/slices.ts';
import type { Instances } from '../../pipeline/frame.ts';
import { createMemoryLogger } from '../../pipeline/log.ts';
import { dataDir } from '../helpers/data-dir.ts';
import { annotated, crowdDetectorOptions, FRAMES, groundTruth, readMot17Frame, runEachSliceOnce, SEQUENCE } from './crowd-config.ts';

const catalog = loadModelCatalog();

function personBoxes(instances: Instances): number[][] {
  const person = instances.classes.names.indexOf('person');
  const boxes: number[][] = [];
  for (let i = 0; i < instances.count; i++) {
    if (instances.classIds[i] === person) boxes.push(Array.from(instances.boxes.subarray(i * 4, i * 4 + 4)));
  }
  return boxes;
}

interface Score {
  readonly recall: number;
  readonly precision: number;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
}

/** Recall and precision of boxes per frame, as `panoptes eval mot` counts them. */
function score(perFrame: ReadonlyMap<number, readonly number[][]>): Score {
  const rows: string[] = [];
  let id = 1;
  for (const [frame, boxes] of perFrame) {
    for (const [x1, y1, x2, y2] of boxes) rows.push(`${frame},${id++},${x1},${y1},${x2! - x1!},${y2! - y1!},1`);
  }
  const pred = parseMotText(rows.join('\n'), 'detections');
  const counts = clearCounts(prepareSequence(groundTruth, pred, 0.5), 0.5);
  const m = clearMetrics(counts);
  return { recall: m.Recall, precision: m.Precision, tp: counts.TP, fp: counts.FP, fn: counts.FN };
}

/** MOT17's public FRCNN detections of the frames (det/det.txt), every score. */
function frcnnBoxes(): Map<number, number[][]> {
  const perFrame = new Map<number, number[][]>(FRAMES.map((f) => [f, []]));
  for (const line of readFileSync(path.join(SEQUENCE, 'det/det.txt'), 'utf8').split('\n')) {
    const [frame, , left, top, width, height] = line.split(',').map(Number);
    perFrame.get(frame!)?.push([left!, top!, left! + width!, top! + height!]);
  }
  return perFrame;
}

interface Setup {
  readonly name: string;
  readonly model: string;
  readonly slices?: SlicesOptions;
  readonly minScore?: number;
  /** NMS overlap and instance cap; 0.45 and 300 unless given (the config's for its row). */
  readonly iouThreshold?: number;
  readonly maxDetections?: number;
}

const slices = (raw: unknown): SlicesOptions => slicesSchema.parse(raw);
const crowd = crowdDetectorOptions();
const CROWD_ROW = `configs/crowd.yaml (${crowd.model}, grid ${crowd.slices?.grid?.join('x')}, overlap ${crowd.slices?.overlap}${crowd.slices?.fullFrame ? ' + full frame' : ''}, minScore ${crowd.minScore})`;
const SETUPS: readonly Setup[] = [
  { name: '320 full frame', model: 'yolov8n-seg-320' },
  { name: '640 full frame', model: 'yolov8n-seg-640' },
  { name: '640, 2x3 slices, overlap 0.2', model: 'yolov8n-seg-640', slices: slices({ grid: [2, 3], overlap: 0.2 }) },
  { name: '640, 2x3 slices + full frame', model: 'yolov8n-seg-640', slices: slices({ grid: [2, 3], overlap: 0.2, fullFrame: true }) },
  { name: '640 detect head, 2x3 slices', model: 'yolov8n-640', slices: slices({ grid: [2, 3], overlap: 0.2 }) },
  { name: '640, 640x640 slices (2x4, native scale)', model: 'yolov8n-seg-640', slices: slices({ size: [640, 640], overlap: 0.2 }) },
  {
    name: '640, 2x3 slices, overlap 0.3 + full frame, minScore 0.2',
    model: 'yolov8n-seg-640',
    slices: slices({ grid: [2, 3], overlap: 0.3, fullFrame: true }),
    minScore: 0.2,
  },
  {
    name: CROWD_ROW,
    model: crowd.model,
    slices: crowd.slices,
    minScore: crowd.minScore,
    iouThreshold: crowd.iouThreshold,
    maxDetections: crowd.maxDetections,
  },
  // The detect head gives the segmentation model's boxes (checked below) at less cost.
  {
    name: '640 detect head, 3x4 slices, overlap 0.25 + full frame, minScore 0.4',
    model: 'yolov8n-640',
    slices: slices({ grid: [3, 4], overlap: 0.25, fullFrame: true }),
    minScore: 0.4,
  },
];

describe('sliced inference on a real crowd frame (MOT17-02, frames 1-4)', () => {
  const sessions = new Map<string, ModelSession>();
  const frames = new Map<number, RgbImage>();
  const results = new Map<string, Map<number, DetectorResult>>();

  beforeAll(async () => {
    for (const f of FRAMES) frames.set(f, readMot17Frame(f));
    for (const model of new Set(SETUPS.map((s) => s.model))) {
      const session = await openModelSession(findModel(catalog, model), dataDir(), ['cpu'], createMemoryLogger());
      sessions.set(model, runEachSliceOnce(session));
    }
    for (const setup of SETUPS) {
      const session = sessions.get(setup.model)!;
      const maxDetections = setup.maxDetections ?? 300;
      const decode = decoderFor(session.entry, {
        minScore: setup.minScore ?? 0.25,
        iouThreshold: setup.iouThreshold ?? 0.45,
        maxDetections,
        keepClass: classFilter('test', session.entry, ['person']),
      });
      const detect = createDetectorRun(session, decode, setup.slices, maxDetections);
      const perFrame = new Map<number, DetectorResult>();
      for (const f of FRAMES) perFrame.set(f, await detect(frames.get(f)!));
      results.set(setup.name, perFrame);
    }
  }, 900_000);

  afterAll(async () => {
    for (const session of sessions.values()) await session.release();
  });

  const scoreOf = (name: string) => score(new Map([...results.get(name)!].map(([f, r]) => [f, personBoxes(r.instances)])));
  const pedestrianCount = FRAMES.reduce((n, f) => n + annotated(f).length, 0);

  it('prints recall, precision and the time per slice and per merge', () => {
    const lines = ['setup | model runs | recall | precision | TP/FP/FN | model ms per slice (median) | decode ms per frame (median) | merge ms per frame (median)'];
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    for (const setup of SETUPS) {
      const s = scoreOf(setup.name);
      const runs = [...results.get(setup.name)!.values()];
      const runMs = runs.flatMap((r) => r.runMs ?? []);
      const mergeMs = runs.map((r) => r.mergeMs ?? NaN);
      const decodeMs = runs.map((r) => r.decodeMs ?? NaN);
      lines.push(
        `${setup.name} | ${runs[0]!.slices?.length ?? 1} | ${s.recall.toFixed(3)} | ${s.precision.toFixed(3)} | ${s.tp}/${s.fp}/${s.fn} | ` +
          `${runMs.length ? median(runMs).toFixed(0) : '-'} | ${setup.slices ? median(decodeMs).toFixed(1) : '-'} | ${setup.slices ? median(mergeMs).toFixed(2) : '-'}`,
      );
      expect(s.tp + s.fn).toBe(pedestrianCount);
    }
    const frcnn = score(frcnnBoxes());
    lines.push(`reference: MOT17 public FRCNN detections (det/det.txt, every score) | - | ${frcnn.recall.toFixed(3)} | ${frcnn.precision.toFixed(3)} | ${frcnn.tp}/${frcnn.fp}/${frcnn.fn} | - | - | -`);
    expect(frcnn.tp + frcnn.fn).toBe(pedestrianCount);
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

  it('configs/crowd.yaml keeps precision at 0.8 or more and finds more than twice the people of the 320 model', () => {
    const configured = scoreOf(CROWD_ROW);
    expect(configured.precision).toBeGreaterThanOrEqual(0.8);
    expect(configured.recall).toBeGreaterThan(2 * scoreOf('320 full frame').recall);
    // Its masks come from the segmentation model.
    expect(results.get(CROWD_ROW)!.get(1)!.instances.masks).toHaveLength(results.get(CROWD_ROW)!.get(1)!.instances.count);
  });

  it('no person comes out twice: at most one detection matches each annotated pedestrian', () => {
    for (const setup of SETUPS.filter((s) => s.slices)) {
      for (const f of FRAMES) {
        const found = personBoxes(results.get(setup.name)!.get(f)!.instances);
        for (const { box: person } of annotated(f)) {
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
