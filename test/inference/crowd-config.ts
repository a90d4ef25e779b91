/**
 * What the crowd tests share: the person detector exactly as `configs/crowd.yaml` configures it
 * (read from the file, so the tests follow the config), MOT17-02's frames and ground truth, and
 * a session wrapper that runs each slice of a frame once however many setups look at it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseMotText, type MotRows } from '../../lib/formats/mot-file.ts';
import type { Box } from '../../lib/geometry/box.ts';
import { type DetectorOptions } from '../../nodes/heads/detector-run.ts';
import { builtinNodes } from '../../nodes/index.ts';
import type { ModelSession, OutputTensors } from '../../nodes/inference/model-session.ts';
import type { RgbImage } from '../../nodes/inference/preprocess.ts';
import type { SliceRegion } from '../../nodes/inference/slices.ts';
import { ffmpegPath } from '../../servers/ffmpeg-binary.ts';
import { stepOperators } from '../../pipeline/config/resolve.ts';
import { loadPipeline } from '../../pipeline/load.ts';
import { dataDir } from '../helpers/data-dir.ts';

export const CROWD_CONFIG = 'configs/crowd.yaml';
export const SEQUENCE = path.join(dataDir(), 'replay/sequences/MOT17-02-FRCNN');
export const FRAMES = [1, 2, 3, 4];
export const W = 1920;
export const H = 1080;

/** The options of the crowd config's instance-segmentation node, as the node receives them. */
export function crowdDetectorOptions(): DetectorOptions & { readonly model: string } {
  const { spec } = loadPipeline(CROWD_CONFIG, builtinNodes());
  const node = spec.pipeline.flatMap(stepOperators).find((step) => step.node.type === 'instance-segmentation');
  if (!node) throw new Error(`${CROWD_CONFIG} has no instance-segmentation node`);
  return node.options as DetectorOptions & { readonly model: string };
}

/** Frame `index` of MOT17-02 as RGB. */
export function readMot17Frame(index: number): RgbImage {
  const file = path.join(SEQUENCE, 'img1', `${String(index).padStart(6, '0')}.jpg`);
  const data = execFileSync(ffmpegPath().path, ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], {
    maxBuffer: W * H * 3 + 1024,
  });
  return { width: W, height: H, data: new Uint8Array(data) };
}

/** The ground truth of the frames used, every class (the scoring needs the distractors). */
export const groundTruth: MotRows = parseMotText(
  readFileSync(path.join(SEQUENCE, 'gt/gt.txt'), 'utf8')
    .split('\n')
    .filter((line) => FRAMES.includes(Number(line.split(',')[0])))
    .join('\n'),
  'MOT17-02 gt frames 1-4',
);

/** Annotated boxes of a frame, `[x1, y1, x2, y2]`, with their id and class; pedestrians only by default. */
export function annotated(frame: number, { allClasses = false } = {}): { id: number; classId: number; box: Box }[] {
  const gt = groundTruth;
  const found: { id: number; classId: number; box: Box }[] = [];
  for (let r = 0; r < gt.count; r++) {
    if (gt.frame[r] !== frame) continue;
    if (!allClasses && (gt.classId[r] !== 1 || gt.conf[r] === 0)) continue;
    found.push({ id: gt.id[r]!, classId: gt.classId[r]!, box: [gt.left[r]!, gt.top[r]!, gt.left[r]! + gt.width[r]!, gt.top[r]! + gt.height[r]!] });
  }
  return found;
}

/**
 * `session`, with each (frame, slice) run once: setups that differ only in what happens after
 * the model (score threshold, merge) or share slices (with and without the whole frame) reuse
 * the outputs and the measured run time of the first. Frames are told apart by identity.
 */
export function runEachSliceOnce(session: ModelSession): ModelSession {
  const bySlice = new WeakMap<RgbImage, Map<string, { outputs: OutputTensors; ms: number }>>();
  const whole = new WeakMap<RgbImage, Promise<OutputTensors>>();
  const key = (r: SliceRegion) => `${r.x},${r.y},${r.width},${r.height}`;
  return {
    entry: session.entry,
    provider: session.provider,
    batchesSlices: session.batchesSlices,
    run: (input, priority, size) => session.run(input, priority, size),
    runImage(image, priority, size) {
      let found = whole.get(image);
      if (!found) whole.set(image, (found = session.runImage(image, priority, size)));
      return found;
    },
    async runSlices(image, regions, priority) {
      let known = bySlice.get(image);
      if (!known) bySlice.set(image, (known = new Map()));
      const missing = regions.filter((r) => !known.has(key(r)));
      if (missing.length) {
        const { slices, runMs } = await session.runSlices(image, missing, priority);
        // Batched, one time covers every slice: share it out.
        missing.forEach((r, i) => known.set(key(r), { outputs: slices[i]!, ms: runMs.length === slices.length ? runMs[i]! : runMs[0]! / slices.length }));
      }
      const runs = regions.map((r) => known.get(key(r))!);
      return { slices: runs.map((r) => r.outputs), runMs: runs.map((r) => r.ms) };
    },
    release: () => session.release(),
  };
}
