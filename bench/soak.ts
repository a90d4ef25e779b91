/**
 * Memory over a long run: the pipeline on looped clips for many frames, lossless (every frame,
 * as fast as it goes) or live (paced like a camera, the flow limiter dropping what the graph
 * cannot take, frames in flight as the config sets), with resident memory sampled every
 * `sampleEvery` frames that left the graph. Reports where it settles and how far it strays from
 * there afterwards.
 */
import type { Logger } from '../pipeline/log.ts';
import type { ExecutionProvider } from '../pipeline/node.ts';
import { runPhase } from './pipeline-phase.ts';
import { MB, median, round, slope } from './stats.ts';

export interface MemorySample {
  /** Frames that had left the graph (all streams). */
  readonly frames: number;
  readonly seconds: number;
  readonly rssMB: number;
  readonly heapUsedMB: number;
  readonly externalMB: number;
  readonly arrayBuffersMB: number;
}

export interface SoakResult {
  /** Paced like a camera (frames dropped at the door) rather than lossless. */
  readonly live: boolean;
  /** Frames each source decoded. */
  readonly framesPerSource: number;
  readonly frames: number;
  readonly seconds: number;
  readonly fps: number;
  readonly drops: number;
  readonly errors: number;
  readonly inOrder: boolean;
  readonly sampleEvery: number;
  readonly samples: readonly MemorySample[];
  /** Samples before this many frames are the warm-up, left out of the figures below. */
  readonly warmUpFrames: number;
  /** Median RSS of the samples after the warm-up. */
  readonly settledMB: number;
  /** Largest |sample - settled| / settled after the warm-up. */
  readonly maxDeviation: number;
  /** First sample from which every later one stays within 10% of the settled level. */
  readonly within10PercentFromFrames: number | null;
  readonly withinTarget: boolean;
  /** Least-squares RSS trend after the warm-up, MB per 1,000 frames (a leak shows here). */
  readonly trendMBPer1000Frames: number;
  readonly failures: readonly string[];
}

function sample(frames: number, startedAt: number): MemorySample {
  const m = process.memoryUsage();
  return {
    frames,
    seconds: round((performance.now() - startedAt) / 1000, 1),
    rssMB: round(m.rss / MB, 1),
    heapUsedMB: round(m.heapUsed / MB, 1),
    externalMB: round(m.external / MB, 1),
    arrayBuffersMB: round(m.arrayBuffers / MB, 1),
  };
}

export function analyzeSoak(samples: readonly MemorySample[], totalFrames: number): Pick<
  SoakResult,
  'warmUpFrames' | 'settledMB' | 'maxDeviation' | 'within10PercentFromFrames' | 'withinTarget' | 'trendMBPer1000Frames'
> {
  // The first fifth of the run is the warm-up: pools fill, JIT and allocator reach their working set.
  const warmUpFrames = Math.max(1, Math.round(totalFrames * 0.2));
  let settled = samples.filter((s) => s.frames >= warmUpFrames);
  if (settled.length === 0) settled = samples.slice(-1);
  const settledMB = median(settled.map((s) => s.rssMB));
  const deviation = (s: MemorySample) => Math.abs(s.rssMB - settledMB) / settledMB;
  const maxDeviation = Math.max(...settled.map(deviation));
  let from: number | null = null;
  for (let i = samples.length - 1; i >= 0 && deviation(samples[i]!) <= 0.1; i--) from = samples[i]!.frames;
  return {
    warmUpFrames,
    settledMB: round(settledMB, 1),
    maxDeviation: round(maxDeviation, 4),
    within10PercentFromFrames: from,
    withinTarget: maxDeviation <= 0.1,
    trendMBPer1000Frames: round(
      slope(
        settled.map((s) => s.frames),
        settled.map((s) => s.rssMB),
      ) * 1000,
      2,
    ),
  };
}

export async function benchSoak(
  options: { config: string; frames: number; sampleEvery: number; live?: boolean; ep?: ExecutionProvider },
  log: Logger,
  progress: (line: string) => void,
): Promise<SoakResult> {
  const samples: MemorySample[] = [];
  let lastFrame: MemorySample | undefined;
  let startedAt = performance.now();
  const live = options.live ?? false;
  const run = await runPhase({ config: options.config, frames: options.frames, realtime: live, ep: options.ep }, log, {
    keepSamples: false,
    onStarted: () => {
      startedAt = performance.now();
      samples.push(sample(0, startedAt));
    },
    onPacket: (total) => {
      const s = sample(total, startedAt);
      if (total % options.sampleEvery !== 0) {
        // Kept for the last frame's sample: measured once the graph has stopped, memory would
        // show its pools already given back.
        lastFrame = s;
        return;
      }
      samples.push(s);
      progress(`soak: ${total} frames, ${s.seconds} s, rss ${s.rssMB} MB`);
    },
  });
  const frames = run.collector.count;
  if (lastFrame && lastFrame.frames === frames) samples.push(lastFrame);
  return {
    live,
    framesPerSource: options.frames,
    frames,
    seconds: round(run.seconds, 1),
    fps: round(frames / run.seconds, 2),
    drops: run.stats.reduce((a, s) => a + s.dropped, 0),
    errors: run.stats.reduce((a, s) => a + s.errors, 0),
    inOrder: run.collector.outOfOrder.size === 0,
    sampleEvery: options.sampleEvery,
    samples,
    ...analyzeSoak(samples, frames),
    failures: run.failures,
  };
}
