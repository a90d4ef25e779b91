/**
 * The 640 models and the box-only detectors on the real highway frame (replay-data/
 * solidWhiteRight-frame100.json: a dark sedan at the left edge and a red car in the left lane),
 * each through its own decoder; then the object-detection node in a graph, with slices, and its
 * instances' masks from the semantic model in fusion.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { firstValueFrom, of } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boxIou } from '../../lib/geometry/box.ts';
import { createDetectorRun, decoderFor } from '../../nodes/heads/detector-run.ts';
import { objectDetection } from '../../nodes/heads/object-detection.ts';
import { semanticSegmentation } from '../../nodes/heads/semantic-segmentation.ts';
import { panopticFusion } from '../../nodes/fusion/panoptic-fusion.ts';
import { builtinNodes } from '../../nodes/index.ts';
import { findModel, loadModelCatalog } from '../../nodes/inference/model-catalog.ts';
import { openModelSession, type ModelSession } from '../../nodes/inference/model-session.ts';
import type { RgbImage } from '../../nodes/inference/preprocess.ts';
import { packetOf, type FramePacket, type Instances } from '../../pipeline/frame.ts';
import { loadPipeline } from '../../pipeline/load.ts';
import { createMemoryLogger } from '../../pipeline/log.ts';
import { chainContext, dataDir } from '../helpers/data-dir.ts';
import { decodeFrame } from '../helpers/frames.ts';

const seen = JSON.parse(readFileSync(new URL('../../replay-data/solidWhiteRight-frame100.json', import.meta.url), 'utf8')) as {
  frame: number;
  width: number;
  height: number;
  cars: { box: number[] }[];
};
const catalog = loadModelCatalog();

function carBoxes(instances: Instances): number[][] {
  const car = instances.classes.names.indexOf('car');
  return Array.from({ length: instances.count }, (_, i) => i)
    .filter((i) => instances.classIds[i] === car)
    .map((i) => Array.from(instances.boxes.subarray(i * 4, i * 4 + 4)));
}

describe('detectors on a real highway frame', () => {
  let frame: RgbImage;
  const sessions = new Map<string, ModelSession>();
  const found = new Map<string, Instances>();

  beforeAll(async () => {
    frame = decodeFrame('solidWhiteRight.mp4', seen.frame, seen.width, seen.height);
    for (const id of ['yolov8n-seg-640', 'yolov8n-640', 'yolox-nano-416', 'nanodet-m-320']) {
      const session = await openModelSession(findModel(catalog, id), dataDir(), ['cpu'], createMemoryLogger());
      sessions.set(id, session);
      const detect = createDetectorRun(session, decoderFor(session.entry, { minScore: 0.3, iouThreshold: 0.5, maxDetections: 100 }), undefined, 100);
      found.set(id, (await detect(frame)).instances);
    }
  }, 180_000);

  afterAll(async () => {
    for (const session of sessions.values()) await session.release();
  });

  it.each(['yolov8n-seg-640', 'yolov8n-640', 'yolox-nano-416', 'nanodet-m-320'])('%s finds both cars where they are', (id) => {
    const boxes = carBoxes(found.get(id)!);
    for (const { box } of seen.cars) expect(Math.max(...boxes.map((b) => boxIou(b, box))), `${id} ${box.join(',')}`).toBeGreaterThan(0.6);
  });

  it('the 640 segmentation model decodes pixel boxes and 160x160 prototypes into masks that fit the cars', () => {
    const instances = found.get('yolov8n-seg-640')!;
    const car = instances.classes.names.indexOf('car');
    for (let i = 0; i < instances.count; i++) {
      if (instances.classIds[i] !== car) continue;
      const mask = instances.masks![i]!;
      const filled = mask.data.reduce((a, b) => a + b, 0) / mask.data.length;
      expect(filled).toBeGreaterThan(0.4);
      expect(filled).toBeLessThan(0.98);
    }
  });

  it('the detect head alone gives the segmentation model\'s boxes, without masks', () => {
    const seg = found.get('yolov8n-seg-640')!;
    const det = found.get('yolov8n-640')!;
    expect(det.masks).toBeUndefined();
    expect(det.count).toBe(seg.count);
    for (let i = 0; i < det.count; i++) {
      expect(boxIou(det.boxes.subarray(i * 4, i * 4 + 4), seg.boxes.subarray(i * 4, i * 4 + 4))).toBeGreaterThan(0.99);
    }
  });
});

describe('the object-detection node, in slices, with fusion', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'panoptes-detect-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('a config with object-detection and slices loads; a bad slices option is refused with the fix', () => {
    const config = (slices: string) => {
      const file = path.join(scratch, 'c.yaml');
      writeFileSync(
        file,
        `dataDir: ${dataDir()}\nsources:\n  - { id: cam, type: ffmpeg, uri: replay/videos/solidWhiteRight.mp4, realtime: false }\n` +
          `pipeline:\n  - { type: semantic-segmentation, model: espnetv2-s1.5 }\n` +
          `  - { type: object-detection, model: yolox-nano-416, slices: ${slices} }\n  - { type: panoptic-fusion }\n`,
      );
      return file;
    };
    const { spec } = loadPipeline(config('{ grid: [1, 2], overlap: 0.2, fullFrame: true }'), builtinNodes());
    expect(spec.pipeline.map((p) => p.label)).toEqual(['semantic-segmentation', 'object-detection', 'panoptic-fusion']);
    expect(() => loadPipeline(config('{ grid: [1, 2], size: [640, 640] }'), builtinNodes())).toThrow(/either grid: \[rows, cols\] or size/);
  });

  it('cars found in slices become thing segments whose pixels are the semantic model\'s car pixels', async () => {
    const frame = decodeFrame('solidWhiteRight.mp4', seen.frame, seen.width, seen.height);
    const ctx = chainContext();
    const semantic = await semanticSegmentation.create(semanticSegmentation.options.parse({ model: 'espnetv2-s1.5' }), ctx);
    const detect = await objectDetection.create(
      objectDetection.options.parse({ model: 'yolox-nano-416', classes: ['car', 'truck'], slices: { grid: [1, 2], overlap: 0.2, fullFrame: true } }),
      ctx,
    );
    const fusion = await panopticFusion.create(panopticFusion.options.parse({}), ctx);
    const packet: FramePacket = await firstValueFrom(
      of(packetOf({ stream: 'test', seq: 0, ptsMs: 0, capturedAtMs: 0, ...frame })).pipe(semantic, detect, fusion),
    );
    const cars = packet.panoptic!.segments.filter((s) => s.isThing && s.className === 'car');
    for (const { box } of seen.cars) {
      const car = cars.find((s) => boxIou(s.bbox, box) > 0.5);
      expect(car, box.join(',')).toBeDefined();
      expect(car!.maskSource).toBe('semantic');
      // Pixels, not the box: fewer than the box holds.
      expect(car!.area).toBeLessThan(0.95 * (car!.bbox[2] - car!.bbox[0]) * (car!.bbox[3] - car!.bbox[1]));
    }
    expect(packet.instances!.masks).toBeUndefined();
  }, 120_000);
});
