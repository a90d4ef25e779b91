import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { concatMap, of, range, timer, type Observable } from 'rxjs';
import { map } from 'rxjs/operators';
import { z } from 'zod';
import { readMotFile, type MotRows } from '../../lib/formats/mot-file.ts';
import { fromXywh } from '../../lib/geometry/box.ts';
import { packetOf, type ClassSet, type FramePacket, type Instances } from '../../pipeline/frame.ts';
import { defineSource } from '../../pipeline/node.ts';
import { readSeqInfo } from './mot-seqinfo.ts';

const options = z.strictObject({
  path: z
    .string()
    .describe('A MOTChallenge sequence folder (det/det.txt, seqinfo.ini) or a detection file; relative paths are under the data directory'),
  realtime: z.boolean().default(false).describe('Pace frames at the sequence frame rate instead of as fast as possible'),
  fps: z.number().positive().optional().describe('Frame rate when the sequence has no seqinfo.ini (default 30)'),
  maxFrames: z.number().int().positive().optional(),
});

type Options = z.infer<typeof options>;

interface Sequence {
  readonly detections: MotRows;
  readonly frames: number;
  readonly fps: number;
  readonly width: number;
  readonly height: number;
}

/** MOTChallenge detection files hold pedestrians only. */
const PEDESTRIANS: ClassSet = { name: 'mot-detections', names: ['pedestrian'], isThing: [true], isVoid: [false], palette: undefined };

function openSequence(options: Options, dataDir: string): Sequence {
  const location = path.resolve(dataDir, options.path);
  if (!existsSync(location)) {
    throw new Error(`detections not found: ${location} (a MOTChallenge sequence folder with det/det.txt, or a det.txt file)`);
  }
  const folder = statSync(location).isDirectory() ? location : undefined;
  const file = folder ? path.join(folder, 'det', 'det.txt') : location;
  if (!existsSync(file)) throw new Error(`detections not found: ${file} (the sequence folder has no det/det.txt)`);
  const detections = readMotFile(file);
  const infoFile = folder ? path.join(folder, 'seqinfo.ini') : path.join(path.dirname(path.dirname(file)), 'seqinfo.ini');
  const info = existsSync(infoFile) ? readSeqInfo(infoFile) : {};
  const lastFrame = detections.frame.reduce((m, f) => Math.max(m, f), 0);
  return {
    detections,
    frames: Number(info.seqLength) || lastFrame,
    fps: options.fps ?? (Number(info.frameRate) || 30),
    width: Number(info.imWidth) || 0,
    height: Number(info.imHeight) || 0,
  };
}

/** The rows of each frame (1-based), as index lists into the detection columns. */
function rowsByFrame(rows: MotRows): Map<number, number[]> {
  const byFrame = new Map<number, number[]>();
  for (let i = 0; i < rows.count; i++) {
    const list = byFrame.get(rows.frame[i]!) ?? [];
    list.push(i);
    byFrame.set(rows.frame[i]!, list);
  }
  return byFrame;
}

function instancesOf(rows: MotRows, indices: readonly number[]): Instances {
  const boxes = new Float32Array(indices.length * 4);
  const scores = new Float32Array(indices.length);
  indices.forEach((row, k) => {
    boxes.set(fromXywh(rows.left[row]!, rows.top[row]!, rows.width[row]!, rows.height[row]!), k * 4);
    scores[k] = rows.conf[row]!;
  });
  return {
    model: 'mot-detections',
    count: indices.length,
    boxes,
    scores,
    classIds: new Int32Array(indices.length),
    classes: PEDESTRIANS,
    masks: undefined,
  };
}

/**
 * Replays a MOTChallenge detection file (`det/det.txt`: `frame,-1,left,top,width,height,score`)
 * as a stream of frames with instances and no pixels, so the tracker runs without a model: a
 * user can compare trackers on the benchmark's public detections. Every frame of the sequence
 * is emitted, those without detections too, with `seq = frame - 1`.
 *
 * ```yaml
 * sources:
 *   - { id: MOT17-02-FRCNN, type: mot-detections, path: replay/sequences/MOT17-02-FRCNN }
 * ```
 */
export const motDetectionsSource = defineSource({
  type: 'mot-detections',
  description: 'Replays MOTChallenge public detections (det/det.txt) as frames with instances.',
  options,
  adds: ['instances'],
  lossless: (o) => !o.realtime,
  async create(options, ctx) {
    const sequence = openSequence(options, ctx.dataDir);
    const byFrame = rowsByFrame(sequence.detections);
    const frames = Math.min(sequence.frames, options.maxFrames ?? Infinity);
    const frameMs = 1000 / sequence.fps;
    ctx.log.info(`${options.path}: ${sequence.detections.count} detections over ${sequence.frames} frames at ${sequence.fps} fps`);
    const frameNumbers: Observable<number> = range(1, frames);
    const paced = options.realtime
      ? frameNumbers.pipe(concatMap((n, i) => (i === 0 ? of(n) : timer(frameMs).pipe(map(() => n)))))
      : frameNumbers;
    return paced.pipe(
      map((frameNumber): FramePacket => {
        const seq = frameNumber - 1;
        ctx.metrics.decoded(ctx.stream);
        const frame = {
          stream: ctx.stream,
          seq,
          ptsMs: seq * frameMs,
          width: sequence.width,
          height: sequence.height,
          data: new Uint8Array(0),
          capturedAtMs: Date.now(),
        };
        return { ...packetOf(frame), instances: instancesOf(sequence.detections, byFrame.get(frameNumber) ?? []) };
      }),
    );
  },
});
