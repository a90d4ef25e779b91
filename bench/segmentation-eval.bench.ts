/**
 * Time of `eval semantic`, `eval panoptic` and `eval video-panoptic` on 100 frames of 1024x512:
 * Cityscapes-like synthetic maps (11 stuff bands with wavy borders, 24 moving car and person
 * instances; the prediction shifts the borders, jitters the boxes, drops one instance and adds a
 * false one), written to a temporary folder first. Only the evaluations are timed: PNG
 * decoding included, map generation and encoding not.
 *
 *     npx tsx bench/segmentation-eval.bench.ts [--frames N] [--json]
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { evaluatePanoptic } from '../evaluation/segmentation/evaluate-panoptic.ts';
import { evaluateSemantic } from '../evaluation/segmentation/evaluate-semantic.ts';
import { evaluateVideoPanoptic } from '../evaluation/segmentation/evaluate-video-panoptic.ts';
import { idsToRgb } from '../lib/formats/coco-panoptic-ids.ts';

const WIDTH = 1024;
const HEIGHT = 512;
const STUFF_CLASSES = 11;
const CLASSES = 19;
const CAR = 13;
const PERSON = 11;
const INSTANCES = 24;
const IGNORE = 255;

interface Maps {
  readonly labels: Uint8Array;
  readonly ids: Uint32Array;
  readonly segments: { id: number; category_id: number; iscrowd: 0; area: number }[];
}

/** One frame's class and segment maps; `predicted` perturbs it the way a model errs. */
function drawFrame(frame: number, predicted: boolean): Maps {
  const labels = new Uint8Array(WIDTH * HEIGHT);
  const ids = new Uint32Array(WIDTH * HEIGHT);
  const bandHeight = HEIGHT / STUFF_CLASSES;
  const shift = predicted ? 3 : 0;
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const wave = 6 * Math.sin((x + 8 * frame) / 40) + shift;
      const band = Math.min(STUFF_CLASSES - 1, Math.max(0, Math.floor((y + wave) / bandHeight)));
      // The top band's left corner is unlabeled in the ground truth (ego vehicle, void).
      const isVoid = !predicted && band === 0 && x < 64;
      labels[y * WIDTH + x] = isVoid ? IGNORE : band;
      ids[y * WIDTH + x] = isVoid ? 0 : band + 1;
    }
  }
  for (let k = 0; k < INSTANCES + 1; k++) {
    const missing = predicted && k === 5;
    const falseOne = k === INSTANCES;
    if (missing || (falseOne && !predicted)) continue;
    const jitter = predicted ? ((k * 7) % 5) - 2 : 0;
    const w = 30 + ((k * 37) % 60);
    const h = 20 + ((k * 53) % 50);
    const x0 = ((k * 131 + frame * (2 + (k % 3))) % (WIDTH - w - 4)) + jitter;
    const y0 = 200 + ((k * 71) % (HEIGHT - 200 - h - 4)) + jitter;
    const classId = k % 2 ? CAR : PERSON;
    for (let y = Math.max(0, y0); y < Math.min(HEIGHT, y0 + h); y++) {
      for (let x = Math.max(0, x0); x < Math.min(WIDTH, x0 + w); x++) {
        labels[y * WIDTH + x] = classId;
        ids[y * WIDTH + x] = 1000 + k;
      }
    }
  }
  const areas = new Map<number, number>();
  for (const id of ids) if (id) areas.set(id, (areas.get(id) ?? 0) + 1);
  const segments = [...areas].map(([id, area]) => ({
    id,
    category_id: id >= 1000 ? ((id - 1000) % 2 ? CAR : PERSON) : id - 1,
    iscrowd: 0 as const,
    area,
  }));
  return { labels, ids, segments };
}

async function writeSide(dir: string, frames: number, predicted: boolean): Promise<void> {
  await mkdir(path.join(dir, 'labels'), { recursive: true });
  await mkdir(path.join(dir, 'panoptic', 'seq'), { recursive: true });
  const annotations = [];
  const rgb = new Uint8Array(WIDTH * HEIGHT * 3);
  for (let f = 0; f < frames; f++) {
    const { labels, ids, segments } = drawFrame(f, predicted);
    const name = `${String(f).padStart(6, '0')}.png`;
    await sharp(Buffer.from(labels), { raw: { width: WIDTH, height: HEIGHT, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toFile(path.join(dir, 'labels', name));
    idsToRgb(ids, rgb);
    await sharp(Buffer.from(rgb), { raw: { width: WIDTH, height: HEIGHT, channels: 3 } }).png().toFile(path.join(dir, 'panoptic', 'seq', name));
    annotations.push({ image_id: f, file_name: name, segments_info: segments });
  }
  const categories = Array.from({ length: CLASSES }, (_, id) => ({ id, name: `class${id}`, isthing: id >= STUFF_CLASSES ? 1 : 0 }));
  await writeFile(path.join(dir, 'panoptic', 'seq', 'panoptic.json'), JSON.stringify({ annotations, categories }));
}

async function seconds<T>(run: () => Promise<T>): Promise<{ seconds: number; result: T }> {
  const started = performance.now();
  const result = await run();
  return { seconds: (performance.now() - started) / 1000, result };
}

export async function benchSegmentationEval(frames = 100) {
  const root = await mkdtemp(path.join(tmpdir(), 'panoptes-bench-'));
  try {
    await writeSide(path.join(root, 'gt'), frames, false);
    await writeSide(path.join(root, 'pred'), frames, true);
    const semantic = await seconds(() =>
      evaluateSemantic({ gtDir: path.join(root, 'gt', 'labels'), predDir: path.join(root, 'pred', 'labels'), classes: CLASSES, ignoreLabel: IGNORE }),
    );
    const sequence = (side: string) => path.join(root, side, 'panoptic', 'seq');
    const panoptic = await seconds(() =>
      evaluatePanoptic({
        gtJson: path.join(sequence('gt'), 'panoptic.json'),
        gtDir: sequence('gt'),
        predJson: path.join(sequence('pred'), 'panoptic.json'),
        predDir: sequence('pred'),
      }),
    );
    const video = await seconds(() =>
      evaluateVideoPanoptic({ gtRoot: path.join(root, 'gt', 'panoptic'), predRoot: path.join(root, 'pred', 'panoptic') }),
    );
    return {
      frames,
      size: `${WIDTH}x${HEIGHT}`,
      semantic: { seconds: semantic.seconds, mIoU: semantic.result.mIoU },
      panoptic: { seconds: panoptic.seconds, pq: panoptic.result.All.pq },
      videoPanoptic: { seconds: video.seconds, vpq: video.result.vpq.All, stq: video.result.stq.stq },
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const framesFlag = process.argv.indexOf('--frames');
  const frames = framesFlag > 0 ? Number(process.argv[framesFlag + 1]) : 100;
  const result = await benchSegmentationEval(frames);
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ segmentationEval: result }));
  } else {
    const f = (s: number) => s.toFixed(2);
    console.log(`${frames} frames of ${result.size}:`);
    console.log(`  eval semantic       ${f(result.semantic.seconds)} s  (mIoU ${result.semantic.mIoU?.toFixed(3)})`);
    console.log(`  eval panoptic       ${f(result.panoptic.seconds)} s  (PQ ${result.panoptic.pq?.toFixed(3)})`);
    console.log(
      `  eval video-panoptic ${f(result.videoPanoptic.seconds)} s  (VPQ ${result.videoPanoptic.vpq?.toFixed(3)}, STQ ${result.videoPanoptic.stq.toFixed(3)})`,
    );
  }
}
