/**
 * The pipeline benchmark behind `panoptes bench`: what this machine does with a config, measured
 * in one run on the same clips and models:
 *
 * 1. decode alone (the config's sources, `realtime: false`, frames released at once);
 * 2. the bare inference loop per model, the models back to back (the ceiling) and all at once,
 *    through the same worker-thread sessions the pipeline uses;
 * 3. the whole pipeline, lossless (`--no-realtime`), with the config's sinks replaced by a probe
 *    (no viewer, so no port): frames/s, ratio to the bare chain, per stream, latency, time per
 *    node, drops;
 * 4. the whole pipeline live (paced at the clips' frame rates, frames dropped as in production):
 *    latency from decode to the end of the graph, and what it adds beyond bare inference;
 * 5. resident memory at start and end (and between phases).
 *
 * The command line (`panoptes bench`, and `--soak`, which runs soak.ts instead) is read in
 * cli/bench-command.ts; the tables are written by report.ts.
 */
import os from 'node:os';
import path from 'node:path';
import { stepOperators } from '../pipeline/config/resolve.ts';
import type { Logger } from '../pipeline/log.ts';
import type { ExecutionProvider } from '../pipeline/node.ts';
import { benchDecode, type DecodeResult } from './decode-bench.ts';
import { benchChain, benchInference, modelIdOf, type ChainResult, type InferenceResult } from './inference-bench.ts';
import { PacketCollector } from './probe-sink.ts';
import { loadBenchSpec, phaseFigures, runPhase, stepMs, type PhaseFigures } from './pipeline-phase.ts';
import { percentile, rssMB, round } from './stats.ts';

export interface BenchResult {
  readonly config: string;
  readonly framesPerSource: number;
  readonly executionProviders: readonly ExecutionProvider[];
  /** The provider that actually ran each model (after any fallback). */
  readonly providers: Readonly<Record<string, ExecutionProvider>>;
  readonly machine: {
    readonly cpus: number;
    readonly cpuModel: string;
    readonly node: string;
    readonly platform: string;
    /** 1-minute load average when the bench started: other work on the machine skews every figure. */
    readonly loadAverageAtStart: number;
  };
  readonly decode: {
    readonly perSource: readonly DecodeResult[];
    readonly allAtOnce?: { readonly frames: number; readonly seconds: number; readonly fps: number };
  };
  readonly inference?: InferenceResult & {
    /** The chain measured again right after the lossless pipeline run (the machine may have drifted). */
    readonly chainAfter?: ChainResult;
    /** The ceiling the ratios use: the mean of the chain's frames/s before and after the pipeline run. */
    readonly ceilingFps: number;
    readonly ceilingMs: number;
  };
  readonly pipeline: PhaseFigures & {
    readonly mode: 'lossless';
    /** pipeline frames/s over the ceiling (bare back-to-back chain frames/s). */
    readonly ratio: number | null;
    readonly steadyRatio: number | null;
  };
  readonly live?: PhaseFigures & {
    readonly mode: 'live';
    /** p50 latency minus the ceiling's ms per frame (bare chain, back to back). */
    readonly beyondInferenceP50: number | null;
    readonly beyondInferenceP95: number | null;
    /**
     * Per frame, latency minus the time of the stages that run a model (their pre- and
     * post-processing included, and their slowdown from sharing the cores with the other stages).
     */
    readonly beyondInferenceStages: { readonly stages: readonly string[]; readonly p50: number; readonly p95: number };
    /** Per frame, the time of the stages that run a model (a parallel block counts its slowest branch). */
    readonly modelStages: { readonly p50: number; readonly p95: number };
  };
  readonly memory: { readonly rssStartMB: number; readonly rssEndMB: number; readonly rssAfterMB: Readonly<Record<string, number>> };
  readonly notes: readonly string[];
}

export interface BenchOptions {
  readonly config: string;
  readonly frames: number;
  readonly runs: number;
  readonly ep?: ExecutionProvider;
  readonly live: boolean;
}

/** Runs every phase of the benchmark; `progress` gets one line as each phase starts. */
export async function runBench(options: BenchOptions, log: Logger, progress: (line: string) => void): Promise<BenchResult> {
  const rssStartMB = rssMB();
  const loadAverageAtStart = round(os.loadavg()[0]!, 2);
  const rssAfterMB: Record<string, number> = {};
  const notes: string[] = [];
  const { config, frames, ep } = options;

  // Sources and models as the lossless run will have them (the probe collector here is unused).
  const { spec, dataDir } = loadBenchSpec({ config, frames, realtime: false, ep }, new PacketCollector());
  const streams = spec.sources.map((s) => s.id);

  progress(`decoding ${streams.length} source(s), ${frames} frames each`);
  const decode = await benchDecode(spec, dataDir, log);
  rssAfterMB.decode = rssMB();

  let before: InferenceResult | undefined;
  if (decode.firstFrame) {
    progress(`bare inference loop, ${options.runs} runs per model`);
    before = await benchInference(spec, dataDir, decode.firstFrame, options.runs, log);
    rssAfterMB.inference = rssMB();
  }
  if (!before) notes.push('no model in this config (or no frame decoded): no bare inference figures');
  const providers = Object.fromEntries((before?.models ?? []).map((m) => [m.model, m.provider]));
  if (ep && before?.models.some((m) => m.provider !== ep)) {
    notes.push(`--ep ${ep} did not run every model: ${before.models.map((m) => `${m.model} on ${m.provider}`).join(', ')} (see the warnings above)`);
  }

  progress(`pipeline, lossless, ${frames} frames per source`);
  const lossless = phaseFigures(await runPhase({ config, frames, realtime: false, ep }, log));
  rssAfterMB.lossless = rssMB();

  let inference: BenchResult['inference'];
  if (before && decode.firstFrame) {
    progress('bare chain again, after the pipeline run');
    const chainAfter = await benchChain(spec, dataDir, decode.firstFrame, options.runs, log);
    const fpsBoth = [before.chain.fps, ...(chainAfter ? [chainAfter.fps] : [])];
    const msBoth = [before.chain.msP50, ...(chainAfter ? [chainAfter.msP50] : [])];
    inference = {
      ...before,
      ...(chainAfter ? { chainAfter } : {}),
      ceilingFps: round(fpsBoth.reduce((a, b) => a + b, 0) / fpsBoth.length, 2),
      ceilingMs: round(msBoth.reduce((a, b) => a + b, 0) / msBoth.length, 1),
    };
  }
  const ceilingFps = inference?.ceilingFps;
  const ratio = (fps: number) => (ceilingFps && Number.isFinite(fps) ? round(fps / ceilingFps, 3) : null);

  let live: BenchResult['live'];
  if (options.live) {
    progress(`pipeline, live (paced at each clip's frame rate), ${frames} frames per source`);
    const liveRun = await runPhase({ config, frames, realtime: true, ep }, log);
    const figures = phaseFigures(liveRun);
    const modelSteps = spec.pipeline.filter((step) => stepOperators(step).some((op) => modelIdOf(op) !== undefined));
    const stages = modelSteps.map((step) => step.label);
    const inStages = liveRun.samples.map((x) => modelSteps.reduce((a, step) => a + stepMs(step, x.timings), 0));
    const outsideStages = liveRun.samples.map((x, i) => x.latencyMs - inStages[i]!);
    rssAfterMB.live = rssMB();
    const chainMs = inference?.ceilingMs;
    live = {
      mode: 'live',
      ...figures,
      beyondInferenceP50: chainMs === undefined ? null : round(figures.latency.p50 - chainMs, 1),
      beyondInferenceP95: chainMs === undefined ? null : round(figures.latency.p95 - chainMs, 1),
      beyondInferenceStages: { stages, p50: round(percentile(outsideStages, 50), 1), p95: round(percentile(outsideStages, 95), 1) },
      modelStages: { p50: round(percentile(inStages, 50), 1), p95: round(percentile(inStages, 95), 1) },
    };
  }

  if (streams.length > 1) {
    notes.push(
      'one session per model is shared by all streams; runs from different streams queue on it one at a time. ' +
        'The models have a static batch dimension of 1, so frames of different streams are not batched. ' +
        'A model stage\'s time per frame includes its wait for the shared session.',
    );
  }
  notes.push('sinks replaced by the bench probe: no viewer (no port, no WebSocket encoding), no events file');
  notes.push(
    'lossless latency includes the wait behind the source\'s buffer pool (the source runs ahead of the first stage); ' +
      'the live run gives the latency a camera sees',
  );

  const cpus = os.cpus();
  return {
    config: path.relative(process.cwd(), config) || config,
    framesPerSource: frames,
    executionProviders: spec.executionProviders,
    providers,
    machine: { cpus: cpus.length, cpuModel: cpus[0]?.model.trim() ?? '?', node: process.version, platform: `${process.platform} ${process.arch}`, loadAverageAtStart },
    decode: { perSource: decode.perSource, ...(decode.allAtOnce ? { allAtOnce: decode.allAtOnce } : {}) },
    ...(inference ? { inference } : {}),
    pipeline: { mode: 'lossless', ...lossless, ratio: ratio(lossless.fps), steadyRatio: ratio(lossless.steadyFps) },
    ...(live ? { live } : {}),
    memory: { rssStartMB, rssEndMB: rssMB(), rssAfterMB },
    notes,
  };
}
