/**
 * The whole pipeline, as `panoptes run` builds it, with the config's sinks replaced by the
 * benchmark probe (no viewer, so no port; no events file): lossless (`--no-realtime`) for
 * throughput, or live (paced at the clip's frame rate) for latency.
 */
import { builtinNodes } from '../nodes/index.ts';
import { isUrl } from '../nodes/sources/probe.ts';
import { stepOperators, type GraphSpec, type PipelineStep } from '../pipeline/config/resolve.ts';
import { buildGraph } from '../pipeline/graph.ts';
import { loadPipeline } from '../pipeline/load.ts';
import type { Logger } from '../pipeline/log.ts';
import type { StreamStats } from '../pipeline/stream-stats.ts';
import type { ExecutionProvider } from '../pipeline/node.ts';
import { PacketCollector, PROBE_SINK_TYPE, probeSink, type PacketSample } from './probe-sink.ts';
import { cpuMsSince, mean, percentile, round } from './stats.ts';

type Entry = Record<string, unknown>;
const entries = (value: unknown): Entry[] =>
  Array.isArray(value) ? value.filter((e): e is Entry => e !== null && typeof e === 'object') : [];

export interface PhaseOptions {
  readonly config: string;
  /** Frames per source (ffmpeg sources: `maxFrames`; files are looped so that there are enough). */
  readonly frames: number;
  /** false: lossless, every frame in order (`--no-realtime`); true: paced like a live camera. */
  readonly realtime: boolean;
  readonly ep?: ExecutionProvider;
}

/** The config with the benchmark's overrides, resolved against a registry that has the probe. */
export function loadBenchSpec(options: PhaseOptions, collector: PacketCollector): { spec: GraphSpec; dataDir: string } {
  const registry = builtinNodes().register(probeSink(collector));
  return loadPipeline(
    options.config,
    registry,
    (raw) => {
      for (const source of entries(raw.sources)) {
        if (source.type !== 'ffmpeg') continue;
        source.realtime = options.realtime;
        source.maxFrames = options.frames;
        if (typeof source.uri === 'string' && !isUrl(source.uri)) source.loop = true;
      }
      raw.sinks = [{ type: PROBE_SINK_TYPE }];
      if (options.ep) raw.executionProviders = [options.ep];
    },
  );
}

export interface PhaseRun {
  readonly samples: readonly PacketSample[];
  readonly collector: PacketCollector;
  readonly stats: readonly StreamStats[];
  readonly streams: readonly string[];
  /** The config's pipeline steps, to read the per-node timings by. */
  readonly steps: readonly PipelineStep[];
  /** performance.now() when the graph started running (after every session was opened and warmed up). */
  readonly startedAt: number;
  readonly seconds: number;
  readonly setupSeconds: number;
  /**
   * CPU this process used from the warm-up's last frame to the last frame out, all threads
   * (ffmpeg, a child process, not counted), and the frames that left the graph meanwhile.
   */
  readonly steadyCpu: { readonly cpuMs: number; readonly frames: number };
  readonly failures: readonly string[];
}

/** Builds the graph (sessions opened and warmed up, not timed), runs it to the end, stops it. */
export async function runPhase(
  options: PhaseOptions,
  log: Logger,
  hooks: { onPacket?: (total: number) => void; onStarted?: () => void; keepSamples?: boolean } = {},
): Promise<PhaseRun> {
  // CPU is read from the warm-up's last frame to the last frame out (steadyFps starts one frame
  // later, at the first frame after the warm-up): the graph's start (first frames, JIT) and its
  // end (the last frames draining) are not a frame's cost.
  let warmUpFrames = WARM_UP_FRAMES;
  let cpuAtWarmUp: NodeJS.CpuUsage | undefined;
  let steady = { cpuMs: 0, frames: 0 };
  const onPacket = (total: number) => {
    if (total === warmUpFrames) cpuAtWarmUp = process.cpuUsage();
    else if (cpuAtWarmUp) steady = { cpuMs: cpuMsSince(cpuAtWarmUp), frames: total - warmUpFrames };
    hooks.onPacket?.(total);
  };
  const collector = new PacketCollector(onPacket, hooks.keepSamples ?? true);
  const { spec, dataDir } = loadBenchSpec(options, collector);
  warmUpFrames = WARM_UP_FRAMES * spec.sources.length;
  const setupStarted = performance.now();
  const graph = await buildGraph(spec, { dataDir, log });
  const startedAt = performance.now();
  try {
    hooks.onStarted?.();
    const outcomes = await graph.run();
    const seconds = (performance.now() - startedAt) / 1000;
    return {
      samples: collector.samples,
      collector,
      stats: graph.metrics.snapshot(),
      streams: graph.streams,
      steps: spec.pipeline,
      startedAt,
      seconds,
      setupSeconds: (startedAt - setupStarted) / 1000,
      steadyCpu: steady,
      failures: outcomes.filter((o) => o.error).map((o) => `${o.stream}: ${o.error!.message}`),
    };
  } finally {
    await graph.stop();
  }
}

export interface StreamFigures {
  readonly stream: string;
  readonly frames: number;
  readonly decoded: number;
  /** Until the stream's last frame left the graph. */
  readonly seconds: number;
  readonly fps: number;
  /** Frames/s after the first {@link WARM_UP_FRAMES} frames (JIT and caches warm). */
  readonly steadyFps: number;
  readonly inOrder: boolean;
  readonly drops: Readonly<Record<string, number>>;
  readonly errors: number;
}

export const WARM_UP_FRAMES = 10;

function streamFigures(run: PhaseRun, stream: string): StreamFigures {
  const own = run.collector.ofStream(stream);
  const stats = run.stats.find((s) => s.stream === stream);
  const lastAt = own.length ? own[own.length - 1]!.atMs : run.startedAt;
  const seconds = (lastAt - run.startedAt) / 1000;
  const k = Math.min(WARM_UP_FRAMES, own.length - 1);
  const steadyFps = k >= 0 && own.length - 1 > k ? ((own.length - 1 - k) * 1000) / (lastAt - own[k]!.atMs) : Number.NaN;
  return {
    stream,
    frames: own.length,
    decoded: stats?.decoded ?? 0,
    seconds: round(seconds, 2),
    fps: round(own.length / seconds, 2),
    steadyFps: round(steadyFps, 2),
    inOrder: !run.collector.outOfOrder.has(stream),
    drops: stats?.drops ?? {},
    errors: stats?.errors ?? 0,
  };
}

export interface LatencyFigures {
  /** Decode to the end of the graph, all processed frames. */
  readonly p50: number;
  readonly p95: number;
  /** Sum of the per-step times of a frame (its time inside nodes; a parallel step counts once). */
  readonly nodeSumP50: number;
  /** Latency minus the node times: waiting in queues and between stages. */
  readonly waitP50: number;
}

/** Milliseconds a frame spent in a step: for a parallel step, its slowest branch (they overlap). */
export function stepMs(step: PipelineStep, timings: Readonly<Record<string, number>>): number {
  return Math.max(0, ...stepOperators(step).map((op) => timings[op.label] ?? 0));
}

export function latencyFigures(samples: readonly PacketSample[], steps: readonly PipelineStep[]): LatencyFigures {
  const latencies = samples.map((s) => s.latencyMs);
  const nodeSums = samples.map((s) => steps.reduce((sum, step) => sum + stepMs(step, s.timings), 0));
  const waits = samples.map((s, i) => s.latencyMs - nodeSums[i]!);
  return {
    p50: round(percentile(latencies, 50), 1),
    p95: round(percentile(latencies, 95), 1),
    nodeSumP50: round(percentile(nodeSums, 50), 1),
    waitP50: round(percentile(waits, 50), 1),
  };
}

/** Mean milliseconds per node per frame, in the order the nodes appear in the timings. */
export function nodeMeans(samples: readonly PacketSample[]): Record<string, number> {
  const sums = new Map<string, number[]>();
  for (const s of samples) {
    for (const [node, ms] of Object.entries(s.timings)) {
      let list = sums.get(node);
      if (!list) sums.set(node, (list = []));
      list.push(ms);
    }
  }
  return Object.fromEntries([...sums].map(([node, list]) => [node, round(mean(list), 1)]));
}

/** Per stage, in the order the stages took the frames: how long a frame waited before the stage took it. */
export function stageWaits(samples: readonly PacketSample[]): Record<string, { readonly p50: number; readonly p95: number }> {
  const waits = new Map<string, number[]>();
  for (const s of samples) {
    for (const [stage, ms] of Object.entries(s.waits)) {
      let list = waits.get(stage);
      if (!list) waits.set(stage, (list = []));
      list.push(ms);
    }
  }
  return Object.fromEntries([...waits].map(([stage, list]) => [stage, { p50: round(percentile(list, 50), 1), p95: round(percentile(list, 95), 1) }]));
}

export interface PhaseFigures {
  readonly frames: number;
  readonly seconds: number;
  readonly setupSeconds: number;
  /** All streams together: frames that left the graph per second. */
  readonly fps: number;
  readonly steadyFps: number;
  readonly perStream: readonly StreamFigures[];
  /**
   * Frames each stream got through while all of them were running (until the first one ended):
   * min / max of those counts; 1 is perfectly fair, near 0 means a stream starves.
   */
  readonly fairness?: { readonly windowSeconds: number; readonly framesPerStream: Record<string, number>; readonly minOverMax: number };
  readonly latency: LatencyFigures;
  readonly nodeMs: Record<string, number>;
  /**
   * CPU milliseconds per frame that left the graph after the warm-up, all of this process's
   * threads (models, nodes, reading the frames later dropped from ffmpeg included; ffmpeg's own
   * decoding, in its own process, not): against the
   * cores' 1000 ms a second each, the frame rate the CPU allows. A run well below it leaves
   * cores idle; one near it is bound by the work itself.
   */
  readonly cpuMsPerFrame: number;
  /** Per stage: milliseconds a frame waited before the stage took it, p50 and p95. */
  readonly stageWaits: Record<string, { readonly p50: number; readonly p95: number }>;
  readonly drops: number;
  readonly errors: number;
  readonly inOrder: boolean;
  readonly failures: readonly string[];
}

export function phaseFigures(run: PhaseRun): PhaseFigures {
  const perStream = run.streams.map((s) => streamFigures(run, s));
  const frames = run.samples.length;
  const lastAt = frames ? run.samples[frames - 1]!.atMs : run.startedAt;
  const seconds = (lastAt - run.startedAt) / 1000;
  const k = Math.min(WARM_UP_FRAMES * run.streams.length, frames - 1);
  const steadyFps = frames - 1 > k ? ((frames - 1 - k) * 1000) / (lastAt - run.samples[k]!.atMs) : Number.NaN;
  let fairness: PhaseFigures['fairness'];
  if (run.streams.length > 1) {
    const ends = run.streams.map((s) => run.collector.ofStream(s).at(-1)?.atMs ?? run.startedAt);
    const windowEnd = Math.min(...ends);
    const framesPerStream = Object.fromEntries(
      run.streams.map((s) => [s, run.samples.filter((p) => p.stream === s && p.atMs <= windowEnd).length]),
    );
    const counts = Object.values(framesPerStream);
    fairness = {
      windowSeconds: round((windowEnd - run.startedAt) / 1000, 2),
      framesPerStream,
      minOverMax: round(Math.min(...counts) / Math.max(...counts), 3),
    };
  }
  return {
    frames,
    seconds: round(seconds, 2),
    setupSeconds: round(run.setupSeconds, 2),
    fps: round(frames / seconds, 2),
    steadyFps: round(steadyFps, 2),
    perStream,
    ...(fairness ? { fairness } : {}),
    latency: latencyFigures(run.samples, run.steps),
    nodeMs: nodeMeans(run.samples),
    cpuMsPerFrame: run.steadyCpu.frames > 0 ? round(run.steadyCpu.cpuMs / run.steadyCpu.frames, 1) : Number.NaN,
    stageWaits: stageWaits(run.samples),
    drops: run.stats.reduce((a, s) => a + s.dropped, 0),
    errors: run.stats.reduce((a, s) => a + s.errors, 0),
    inOrder: perStream.every((s) => s.inOrder),
    failures: run.failures,
  };
}
