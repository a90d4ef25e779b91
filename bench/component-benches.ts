/**
 * The benchmarks of single components, which `npm run bench` (`panoptes bench --all`) runs after
 * the pipeline benchmark:
 *
 * - the tracker micro-benchmark (tracker.bench.ts), with 50 and 200 objects;
 * - the segmentation evaluation benchmark (segmentation-eval.bench.ts);
 * - `eval mot` on a sequence of MOTChallenge size (mot-eval.bench.ts);
 * - `eval instance` on 5,000 COCO annotations, masks and boxes (instance-eval.bench.ts);
 * - what viewers cost the pipeline, and render + encode time at 1280x720 (viewer-clients.bench.ts);
 * - motion segmentation per frame, by step, on a real 768x432 clip and at 1080p (motion.bench.ts);
 * - the camera-motion estimator beside OpenCV's on the same real frames (camera-motion-compare.ts);
 * - moving things found by our motion segmenter and by OpenCV's MOG2 against a person's car counts
 *   on a real clip (background-compare.ts).
 */
import { resolveDataDir } from '../pipeline/config/data-dir.ts';
import { compareBackground } from './background-compare.ts';
import { compareCameraMotion } from './camera-motion-compare.ts';
import { benchInstanceEval } from './instance-eval.bench.ts';
import { benchMotEval } from './mot-eval.bench.ts';
import { benchMotion } from './motion.bench.ts';
import { benchSegmentationEval } from './segmentation-eval.bench.ts';
import { benchTracker } from './tracker.bench.ts';
import { benchViewerClients } from './viewer-clients.bench.ts';

export interface ComponentBenches {
  readonly tracker: readonly ReturnType<typeof benchTracker>[];
  readonly segmentationEval: Awaited<ReturnType<typeof benchSegmentationEval>>;
  readonly motEval: ReturnType<typeof benchMotEval>;
  readonly instanceEval: ReturnType<typeof benchInstanceEval>;
  readonly viewerClients: Awaited<ReturnType<typeof benchViewerClients>>;
  readonly motion: ReturnType<typeof benchMotion>;
  readonly cameraMotion: Awaited<ReturnType<typeof compareCameraMotion>>;
  readonly background: Awaited<ReturnType<typeof compareBackground>>;
}

/** Runs the component benchmarks one after the other. */
export async function benchComponents(): Promise<ComponentBenches> {
  const tracker = [50, 200].map((n) => benchTracker(n));
  const segmentationEval = await benchSegmentationEval();
  const motEval = benchMotEval();
  const instanceEval = benchInstanceEval();
  const viewerClients = await benchViewerClients();
  const motion = benchMotion();
  const cameraMotion = await compareCameraMotion(resolveDataDir(undefined, 'bench/camera-motion-compare.ts'));
  const background = await compareBackground(resolveDataDir(undefined, 'bench/background-compare.ts'));
  return { tracker, segmentationEval, motEval, instanceEval, viewerClients, motion, cameraMotion, background };
}
