/**
 * The real models on a real frame, checked for what a person sees in it (replay-data/
 * solidWhiteRight-frame100.json): road filling the bottom of the highway picture, sky at the
 * top, a dark sedan at the left edge and a red car in the left lane.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { findModel, loadModelCatalog } from '../../nodes/inference/model-catalog.ts';
import { openModelSession, type ModelSession } from '../../nodes/inference/model-session.ts';
import { createPreprocessor, type RgbImage } from '../../nodes/inference/preprocess.ts';
import { decodeYoloSeg } from '../../nodes/heads/yolo-seg.ts';
import { fusePanoptic, LabelScaler } from '../../nodes/fusion/fuse-panoptic.ts';
import type { Instances, SemanticLabels } from '../../pipeline/frame.ts';
import { createMemoryLogger } from '../../pipeline/log.ts';
import { dataDir } from '../helpers/data-dir.ts';
import { decodeFrame } from '../helpers/frames.ts';
import { boxIou } from '../../lib/geometry/box.ts';

interface SeenByAPerson {
  readonly frame: number;
  readonly width: number;
  readonly height: number;
  readonly cars: readonly { readonly box: readonly number[] }[];
  readonly regions: readonly { readonly className: string; readonly rows: readonly [number, number]; readonly atLeast: number }[];
}
const seen = JSON.parse(
  readFileSync(new URL('../../replay-data/solidWhiteRight-frame100.json', import.meta.url), 'utf8'),
) as SeenByAPerson;
const W = seen.width;
const H = seen.height;
const catalog = loadModelCatalog();
let frame: RgbImage;
let semantic: SemanticLabels;
let instances: Instances;

function fraction(labels: Uint8Array, width: number, rows: [number, number], classId: number): number {
  let hits = 0;
  for (let i = rows[0] * width; i < rows[1] * width; i++) if (labels[i] === classId) hits++;
  return hits / ((rows[1] - rows[0]) * width);
}

describe('real models on a real highway frame', () => {
  let espnet: ModelSession;
  let yolo: ModelSession;

  beforeAll(async () => {
    frame = decodeFrame('solidWhiteRight.mp4', seen.frame, W, H);
    const log = createMemoryLogger();
    espnet = await openModelSession(findModel(catalog, 'espnetv2-s1.5'), dataDir(), ['cpu'], log);
    yolo = await openModelSession(findModel(catalog, 'yolov8n-seg-320'), dataDir(), ['cpu'], log);
    expect(log.lines.join('\n')).toContain('model espnetv2-s1.5 runs on cpu');
  });

  it('ESPNetv2 s1.5 sees road across the bottom and sky across the top ', async () => {
    const { tensor } = createPreprocessor(espnet.entry.input)(frame);
    const labels = (await espnet.run(tensor)).labels!;
    expect(labels.dims).toEqual([1, 256, 512]);
    const names = espnet.entry.classes.names;
    const data = labels.data as Uint8Array;
    semantic = { model: espnet.entry.id, width: 512, height: 256, labels: data, classes: espnet.entry.classes };
    for (const region of seen.regions) {
      const rows: [number, number] = [Math.round(region.rows[0] * 256), Math.round(region.rows[1] * 256)];
      expect(fraction(data, 512, rows, names.indexOf(region.className)), region.className).toBeGreaterThan(region.atLeast);
    }
  });

  it('YOLOv8n-seg finds the two near cars where they are, with masks inside their boxes', async () => {
    const { tensor, transform } = createPreprocessor(yolo.entry.input)(frame);
    // 960x540 letterboxed into 320x320: scale 1/3, centred vertically (70 px bars).
    expect(transform).toEqual({ scaleX: 1 / 3, scaleY: 1 / 3, padX: 0, padY: 70 });
    const out = await yolo.run(tensor);
    instances = decodeYoloSeg(
      yolo.entry.id,
      yolo.entry.classes,
      {
        predictions: out.output0!.data as Float32Array,
        predictionDims: out.output0!.dims,
        prototypes: out.output1!.data as Float32Array,
        prototypeDims: out.output1!.dims,
      },
      { inputWidth: 320, inputHeight: 320, frameWidth: W, frameHeight: H, transform },
      { minScore: 0.3, iouThreshold: 0.5, maxDetections: 100 },
    );
    const cars = Array.from({ length: instances.count }, (_, i) => i).filter(
      (i) => instances.classes.names[instances.classIds[i]!] === 'car',
    );
    const boxes = cars.map((i) => Array.from(instances.boxes.subarray(i * 4, i * 4 + 4)));
    for (const { box } of seen.cars) {
      expect(Math.max(...boxes.map((b) => boxIou(b, box)))).toBeGreaterThan(0.7);
    }
    for (const i of cars) {
      const mask = instances.masks![i]!;
      const filled = mask.data.reduce((a, b) => a + b, 0) / mask.data.length;
      // A car fills much of its box, never all of it (the corners are road).
      expect(filled).toBeGreaterThan(0.4);
      expect(filled).toBeLessThan(0.98);
    }
  });

  it('a frame prepared on the model\'s own thread, from shared memory, gives the same outputs', async () => {
    const shared = new Uint8Array(new SharedArrayBuffer(frame.data.length));
    shared.set(frame.data);
    for (const session of [espnet, yolo]) {
      const onMainThread = await session.run(createPreprocessor(session.entry.input)(frame).tensor);
      const onWorker = await session.runImage({ width: W, height: H, data: shared });
      for (const name of session.entry.outputs) expect(onWorker[name], `${session.entry.id} ${name}`).toEqual(onMainThread[name]);
    }
  });

  it('fusion of both: road stuff, car things, every pixel accounted for', () => {
    const cs = findModel(catalog, 'espnetv2-s1.5').classes;
    const map: Record<string, string> = { car: 'car', truck: 'truck', person: 'person' };
    const out = { classMap: new Uint8Array(W * H), segmentMap: new Uint32Array(W * H) };
    const { segments } = fusePanoptic(
      W,
      H,
      semantic,
      instances,
      {
        ...cs,
        instanceToPanoptic: Int32Array.from(instances.classes.names, (n) => (map[n] ? cs.names.indexOf(map[n]!) : -1)),
        person: cs.names.indexOf('person'),
        rider: cs.names.indexOf('rider'),
        ridden: [cs.names.indexOf('bicycle'), cs.names.indexOf('motorcycle')],
      },
      { minArea: 64, minVisibleFraction: 0.5 },
      out,
      new LabelScaler(),
    );
    const road = segments.find((s) => s.className === 'road')!;
    expect(road.isThing).toBe(false);
    expect(road.area).toBeGreaterThan(0.3 * W * H);
    expect(segments.filter((s) => s.className === 'car' && s.isThing).length).toBeGreaterThanOrEqual(2);
    const accounted = segments.reduce((sum, s) => sum + s.area, 0);
    let voidPixels = 0;
    for (const id of out.segmentMap) if (id === 0) voidPixels++;
    expect(accounted + voidPixels).toBe(W * H);
  });
});
