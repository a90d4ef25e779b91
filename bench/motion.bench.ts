/**
 * Motion segmentation time per frame, by step (grey downscale, camera motion, background and
 * morphology, blobs), on the real top-down clip intel_car-detection.mp4 (768x432) at the
 * default 320-wide grey copy and at 640, with camera motion compensation on and off, and with
 * colour (two more background models) at 640; and at 1080p (the highway clip scaled to
 * 1920x1080, a drone's frame size) with configs/aerial-cars.yaml's settings, camera motion on
 * and off. Runs the
 * segmenter on this thread (the node runs the same code on a worker thread). Prints one line per
 * setting and, with --json, one JSON object.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { MotionSegmenter, type MotionOptions } from '../nodes/motion/motion-segmenter.ts';
import { ffmpegPath } from '../servers/ffmpeg-binary.ts';
import { resolveDataDir } from '../pipeline/config/data-dir.ts';

interface BenchClip {
  readonly file: string;
  readonly width: number;
  readonly height: number;
  readonly frameMs: number;
  /** Scaled to `width x height` by ffmpeg (the clip is smaller). */
  readonly scaled: boolean;
}

const CARPARK: BenchClip = { file: 'intel_car-detection.mp4', width: 768, height: 432, frameMs: 80, scaled: false };
const DRONE_SIZE: BenchClip = { file: 'solidWhiteRight.mp4', width: 1920, height: 1080, frameMs: 40, scaled: true };

export interface MotionBenchResult {
  readonly frameSize: string;
  readonly processWidth: number;
  readonly compensateCamera: boolean;
  readonly colour: boolean;
  readonly frames: number;
  readonly msPerFrame: number;
  readonly steps: { readonly grey: number; readonly cameraMotion: number; readonly background: number; readonly blobs: number };
}

function decode(clip: BenchClip, frames: number, dataDir: string): Uint8Array {
  const args = ['-v', 'error', '-i', path.join(dataDir, 'replay/videos', clip.file)];
  if (clip.scaled) args.push('-vf', `scale=${clip.width}:${clip.height}`);
  args.push('-frames:v', String(frames), '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-');
  const raw = execFileSync(ffmpegPath().path, args, { maxBuffer: frames * clip.width * clip.height * 3 + 1024 });
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.length);
}

/**
 * configs/aerial-cars.yaml's motion settings (the bench measures cost; the config says why each).
 * Written out, not read through the node's schema: importing the node module loads the native
 * libraries of the pipeline beside the segmenter, and every step then timed 25% slower here.
 */
const AERIAL: Partial<MotionOptions> = { minArea: 30, openRadius: 0, closeRadius: 2, joinGap: 0.5, persistFrames: 3, jitterRadius: 1, minMotionConfidence: 0.4 };

export function benchMotion(dataDir = resolveDataDir(undefined, 'bench/motion.bench.ts'), frames = 250): MotionBenchResult[] {
  const settings = [
    { clip: CARPARK, processWidth: 320, compensateCamera: true, colour: false, extra: {} },
    { clip: CARPARK, processWidth: 320, compensateCamera: false, colour: false, extra: {} },
    { clip: CARPARK, processWidth: 640, compensateCamera: true, colour: false, extra: {} },
    { clip: CARPARK, processWidth: 640, compensateCamera: true, colour: true, extra: {} },
    { clip: DRONE_SIZE, processWidth: 960, compensateCamera: true, colour: true, extra: AERIAL },
    { clip: DRONE_SIZE, processWidth: 960, compensateCamera: false, colour: true, extra: AERIAL },
  ];
  const decoded = new Map<BenchClip, Uint8Array>();
  return settings.map(({ clip: benchClip, processWidth, compensateCamera, colour, extra }) => {
    // 1080p frames are 6 MB each: 60 of them are enough for a per-frame cost.
    const count = benchClip === DRONE_SIZE ? Math.min(frames, 60) : frames;
    const clip = decoded.get(benchClip) ?? decode(benchClip, count, dataDir);
    decoded.set(benchClip, clip);
    const { width: WIDTH, height: HEIGHT, frameMs: FRAME_MS } = benchClip;
    // The row's own width, camera motion and colour win over what a config says.
    const options: MotionOptions = {
      threshold: 20, deviations: 3, adaptation: 40, settle: { seconds: 2 },
      minArea: 2000, maxAreaFraction: 0.25, openRadius: 1, closeRadius: 2, minMotionConfidence: 0.4, ...extra,
      processWidth, compensateCamera, colour,
    };
    const segmenter = new MotionSegmenter(options);
    const steps = { grey: 0, cameraMotion: 0, background: 0, blobs: 0 };
    const warmUp = 10; // the JIT's
    let total = 0;
    const frameCount = clip.length / (WIDTH * HEIGHT * 3);
    for (let f = 0; f < frameCount; f++) {
      const data = clip.subarray(f * WIDTH * HEIGHT * 3, (f + 1) * WIDTH * HEIGHT * 3);
      const started = performance.now();
      const { timings } = segmenter.process({ width: WIDTH, height: HEIGHT, data }, f * FRAME_MS);
      if (f < warmUp) continue;
      total += performance.now() - started;
      steps.grey += timings.grey;
      steps.cameraMotion += timings.cameraMotion;
      steps.background += timings.background;
      steps.blobs += timings.blobs;
    }
    const n = frameCount - warmUp;
    const per = (v: number) => Number((v / n).toFixed(2));
    return {
      frameSize: `${WIDTH}x${HEIGHT}`,
      processWidth,
      compensateCamera,
      colour,
      frames: n,
      msPerFrame: per(total),
      steps: { grey: per(steps.grey), cameraMotion: per(steps.cameraMotion), background: per(steps.background), blobs: per(steps.blobs) },
    };
  });
}

export function formatMotionBench(results: readonly MotionBenchResult[]): string[] {
  return results.map(
    (r) =>
      `  ${r.frameSize} frames, ${r.processWidth} wide, camera motion ${r.compensateCamera ? 'on ' : 'off'}${r.colour ? ', colour' : ''}: ${r.msPerFrame.toFixed(2)} ms per frame ` +
      `(grey ${r.steps.grey}, camera motion ${r.steps.cameraMotion}, background ${r.steps.background}, blobs ${r.steps.blobs})`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = benchMotion();
  if (process.argv.includes('--json')) console.log(JSON.stringify({ motion: results }));
  else console.log(['motion segmentation (intel_car-detection.mp4 768x432; solidWhiteRight.mp4 scaled to 1920x1080)', ...formatMotionBench(results)].join('\n'));
}
