/**
 * Motion segmentation time per frame, by step (grey downscale, camera motion, background and
 * morphology, blobs), on the real top-down clip intel_car-detection.mp4 (768x432) at the
 * default 320-wide grey copy and at 640, with camera motion compensation on and off, and with
 * colour (two more background models) at 640. Runs the
 * segmenter on this thread (the node runs the same code on a worker thread). Prints one line per
 * setting and, with --json, one JSON object.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { MotionSegmenter, type MotionOptions } from '../nodes/motion/motion-segmenter.ts';
import { ffmpegPath } from '../nodes/sources/ffmpeg-binary.ts';
import { resolveDataDir } from '../pipeline/config/data-dir.ts';

const WIDTH = 768;
const HEIGHT = 432;
const FRAME_MS = 80;

export interface MotionBenchResult {
  readonly processWidth: number;
  readonly compensateCamera: boolean;
  readonly colour: boolean;
  readonly frames: number;
  readonly msPerFrame: number;
  readonly steps: { readonly grey: number; readonly cameraMotion: number; readonly background: number; readonly blobs: number };
}

function decode(frames: number, dataDir: string): Uint8Array {
  const clip = path.join(dataDir, 'replay/videos/intel_car-detection.mp4');
  const args = ['-v', 'error', '-i', clip, '-frames:v', String(frames), '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'];
  const raw = execFileSync(ffmpegPath().path, args, { maxBuffer: frames * WIDTH * HEIGHT * 3 + 1024 });
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.length);
}

export function benchMotion(dataDir = resolveDataDir(undefined, 'bench/motion.bench.ts'), frames = 250): MotionBenchResult[] {
  const clip = decode(frames, dataDir);
  const settings = [
    { processWidth: 320, compensateCamera: true, colour: false },
    { processWidth: 320, compensateCamera: false, colour: false },
    { processWidth: 640, compensateCamera: true, colour: false },
    { processWidth: 640, compensateCamera: true, colour: true },
  ];
  return settings.map(({ processWidth, compensateCamera, colour }) => {
    const options: MotionOptions = {
      processWidth, compensateCamera, colour, threshold: 20, deviations: 3, adaptation: 40, settle: { seconds: 2 },
      minArea: 2000, maxAreaFraction: 0.25, openRadius: 1, closeRadius: 2, minMotionConfidence: 0.05,
    };
    const segmenter = new MotionSegmenter(options);
    const steps = { grey: 0, cameraMotion: 0, background: 0, blobs: 0 };
    const warmUp = 20; // the JIT's
    let total = 0;
    const count = clip.length / (WIDTH * HEIGHT * 3);
    for (let f = 0; f < count; f++) {
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
    const n = count - warmUp;
    const per = (v: number) => Number((v / n).toFixed(2));
    return {
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
      `  ${r.processWidth} wide, camera motion ${r.compensateCamera ? 'on ' : 'off'}${r.colour ? ', colour' : ''}: ${r.msPerFrame.toFixed(2)} ms per frame ` +
      `(grey ${r.steps.grey}, camera motion ${r.steps.cameraMotion}, background ${r.steps.background}, blobs ${r.steps.blobs})`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = benchMotion();
  if (process.argv.includes('--json')) console.log(JSON.stringify({ motion: results }));
  else console.log(['motion segmentation (intel_car-detection.mp4, 768x432)', ...formatMotionBench(results)].join('\n'));
}
