/**
 * Our motion segmenter (nodes/motion/motion-segmenter.ts) against OpenCV's MOG2 background
 * subtractor (bench/opencv-reference.ts), scored by a person's car counts: on
 * intel_car-detection.mp4 (768x432, 12.5 fps, a fixed camera looking straight down at a car
 * park lane), every frame of the clip goes through each method, and the number of moving things
 * it reports on each annotated frame (every tenth, replay-data/intel_car-detection-counts.json)
 * is compared with the person's count.
 *
 * Methods:
 * - ours with configs/motion-cars.yaml's and with configs/aerial-cars.yaml's motion-segmentation
 *   options, read through the node's own schema;
 * - MOG2 on the full 768x432 RGB frame, shadows dropped, 3x3 open + close (OpenCvMog2), blobs by
 *   `connectedComponentsWithStats` of at least motion-cars' minArea (2000 frame pixels): once with
 *   history 200 and varThreshold 25, once at OpenCV's defaults (500, 16).
 *
 * Warm-up: annotated frames before 2 s (0, 10, 20) are not scored, for any method: the pipeline
 * reports nothing while its background settles (both configs' `warmUp` is 2 s), and MOG2 gets
 * the same grace. The person saw no car there, so these frames count as exactly right and add
 * nothing to the error. (When this was written every method reported 0 there anyway: MOG2 takes
 * its first frame as the background.)
 *
 * The clip is decoded once into memory first; each method then runs alone over all its frames
 * (no competition with ffmpeg or with another method). ms per frame: the whole call (for MOG2,
 * apply + blobs), after the first 10 frames (the JIT's and the wasm heap's warm-up).
 *
 * `node --import tsx bench/background-compare.ts [--json]` prints the table.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { greySizeFor } from '../nodes/motion/grey-downscale.ts';
import { MotionSegmenter, type MotionOptions } from '../nodes/motion/motion-segmenter.ts';
import { ffmpegPath } from '../servers/ffmpeg-binary.ts';
import { REPO_ROOT, resolveDataDir } from '../pipeline/config/data-dir.ts';
import { configMotionOptions } from './config-motion-options.ts';
import { loadOpenCv, OpenCvMog2, opencvBlobs, type OpenCv, type OpenCvMog2Options } from './opencv-reference.ts';
import { mean, round } from './stats.ts';

const CLIP = 'replay/videos/intel_car-detection.mp4';
const WIDTH = 768;
const HEIGHT = 432;
const FPS = 12.5;
/** Annotated frames shown before this are the warm-up: not scored (see the module comment). */
const WARM_UP_MS = 2000;
/** Frames not timed at the start of each run. */
const TIMING_WARM_UP = 10;
/** MOG2's blobs: motion-cars' minArea, frame pixels (MOG2 works on the frame itself). */
const MOG2_MIN_AREA = 2000;

const COUNTS_FILE = 'replay-data/intel_car-detection-counts.json';

// ---------------------------------------------------------------------------------------------
// Results

export interface MethodScore {
  readonly method: string;
  /** Annotated frames where the count is the person's (warm-up frames included as right). */
  readonly exact: number;
  readonly tooMany: number;
  readonly tooFew: number;
  /** Sum over the scored frames of |count − person|. */
  readonly absError: number;
  readonly msPerFrame: number;
  /** Count on each annotated frame, by frame index; null in the warm-up (not scored). */
  readonly counts: Readonly<Record<number, number | null>>;
}

export interface BackgroundComparison {
  readonly clip: string;
  readonly frames: number;
  /** Annotated frames in all, and how many of them are in the warm-up (not scored). */
  readonly annotated: number;
  readonly warmUpFrames: number;
  readonly person: Readonly<Record<number, number>>;
  readonly methods: readonly MethodScore[];
}

// ---------------------------------------------------------------------------------------------


function personCounts(): Record<number, number> {
  const json = JSON.parse(readFileSync(path.join(REPO_ROOT, COUNTS_FILE), 'utf8')) as { counts: Record<string, number> };
  return Object.fromEntries(Object.entries(json.counts).map(([frame, n]) => [Number(frame), n]));
}

function decodeClip(dataDir: string): Uint8Array[] {
  const size = WIDTH * HEIGHT * 3;
  const args = ['-v', 'error', '-i', path.join(dataDir, CLIP), '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'];
  const raw = execFileSync(ffmpegPath().path, args, { maxBuffer: 500 * size });
  if (raw.length % size !== 0) throw new Error(`${CLIP}: ${raw.length} bytes is not whole ${WIDTH}x${HEIGHT} frames`);
  return Array.from({ length: raw.length / size }, (_, f) => new Uint8Array(raw.buffer, raw.byteOffset + f * size, size));
}

/** Counts on every frame and the time of each. */
interface Run {
  readonly counts: number[];
  readonly ms: number[];
}

function runOurs(frames: readonly Uint8Array[], options: MotionOptions): Run {
  const segmenter = new MotionSegmenter(options);
  const run: Run = { counts: [], ms: [] };
  frames.forEach((data, f) => {
    const start = performance.now();
    const result = segmenter.process({ width: WIDTH, height: HEIGHT, data }, (f * 1000) / FPS);
    run.ms.push(performance.now() - start);
    run.counts.push(result.blobs.length);
  });
  return run;
}

function runMog2(cv: OpenCv, frames: readonly Uint8Array[], options: OpenCvMog2Options): Run {
  const mog2 = new OpenCvMog2(cv, WIDTH, HEIGHT, options);
  const run: Run = { counts: [], ms: [] };
  try {
    for (const frame of frames) {
      const start = performance.now();
      const { mask } = mog2.apply(frame);
      const blobs = opencvBlobs(mask, WIDTH, HEIGHT, MOG2_MIN_AREA, cv);
      run.ms.push(performance.now() - start);
      run.counts.push(blobs.length);
    }
  } finally {
    mog2.dispose();
  }
  return run;
}

function score(method: string, run: Run, person: Readonly<Record<number, number>>): MethodScore {
  let exact = 0, tooMany = 0, tooFew = 0, absError = 0;
  const counts: Record<number, number | null> = {};
  for (const [key, truth] of Object.entries(person)) {
    const frame = Number(key);
    if ((frame * 1000) / FPS < WARM_UP_MS) {
      counts[frame] = null;
      exact++;
      continue;
    }
    const n = run.counts[frame]!;
    counts[frame] = n;
    if (n === truth) exact++;
    else if (n > truth) tooMany++;
    else tooFew++;
    absError += Math.abs(n - truth);
  }
  return { method, exact, tooMany, tooFew, absError, msPerFrame: round(mean(run.ms.slice(TIMING_WARM_UP)), 2), counts };
}

/** Runs the four methods over the whole clip. Loads opencv.js (once per process). */
export async function compareBackground(dataDir: string): Promise<BackgroundComparison> {
  const cv = await loadOpenCv();
  const person = personCounts();
  const frames = decodeClip(dataDir);
  const last = Math.max(...Object.keys(person).map(Number));
  if (frames.length <= last) throw new Error(`${CLIP}: ${frames.length} frames, the counts go to frame ${last}`);

  const methods: MethodScore[] = [];
  for (const config of ['configs/motion-cars.yaml', 'configs/aerial-cars.yaml']) {
    const options = configMotionOptions(path.join(REPO_ROOT, config));
    const grey = greySizeFor(WIDTH, HEIGHT, options.processWidth);
    const detail = `processWidth ${options.processWidth}: grey ${grey.width}x${grey.height}${options.colour ? ', colour' : ''}`;
    methods.push(score(`ours, ${config} (${detail})`, runOurs(frames, options), person));
  }
  const mog2: readonly [string, OpenCvMog2Options][] = [
    ['OpenCV MOG2 history 200, varThreshold 25', { history: 200, varThreshold: 25, detectShadows: true }],
    ['OpenCV MOG2 defaults (history 500, varThreshold 16)', { history: 500, varThreshold: 16, detectShadows: true }],
  ];
  for (const [name, options] of mog2) methods.push(score(name, runMog2(cv, frames, options), person));

  const annotated = Object.keys(person).length;
  const warmUpFrames = Object.keys(person).filter((f) => (Number(f) * 1000) / FPS < WARM_UP_MS).length;
  return { clip: path.basename(CLIP), frames: frames.length, annotated, warmUpFrames, person, methods };
}

// ---------------------------------------------------------------------------------------------
// Printing

function table(rows: readonly (readonly string[])[], indent = '  '): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => (indent + row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')).trimEnd());
}

export function formatBackgroundComparison(r: BackgroundComparison): string[] {
  const frames = Object.keys(r.person).map(Number);
  const warmUp = frames.slice(0, r.warmUpFrames).join(', ');
  return [
    `moving things vs a person's car counts, ${r.clip} ${WIDTH}x${HEIGHT}, all ${r.frames} frames run, every 10th scored ` +
      `(${r.annotated}; ${warmUp} are before ${WARM_UP_MS / 1000} s, the warm-up: not scored, counted as right); ` +
      `MOG2 on the full frame, shadows dropped, 3x3 open + close, blobs >= ${MOG2_MIN_AREA} px; ms after ${TIMING_WARM_UP} frames, one thread`,
    ...table([
      ['method', 'exact', 'too many', 'too few', 'sum |error|', 'ms/frame'],
      ...r.methods.map((m) => [m.method, `${m.exact}/${r.annotated}`, String(m.tooMany), String(m.tooFew), String(m.absError), m.msPerFrame.toFixed(2)]),
    ]),
    '  counts (frame:person/method, wrong frames only):',
    ...r.methods.map((m) => {
      const wrong = frames.filter((f) => m.counts[f] !== null && m.counts[f] !== r.person[f]);
      return `    ${m.method}: ${wrong.length === 0 ? 'none' : wrong.map((f) => `${f}:${r.person[f]}/${m.counts[f]}`).join(' ')}`;
    }),
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await compareBackground(resolveDataDir(undefined, 'bench/background-compare.ts'));
  console.log(process.argv.includes('--json') ? JSON.stringify({ background: result }) : formatBackgroundComparison(result).join('\n'));
}
