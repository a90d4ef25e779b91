/**
 * `panoptes bench`: what this machine does with a config, measured in one run on the same clips
 * and models:
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
 * `--soak N` runs only a long lossless run instead, sampling resident memory.
 *
 *     npx tsx bench/pipeline-bench.ts [config] [--frames N] [--ep cpu|webgpu|cuda] [--json]
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { UsageError } from '../cli/usage-error.ts';
import { stepOperators } from '../pipeline/config/resolve.ts';
import { ConfigError } from '../pipeline/config/validation.ts';
import { createLogger, type Logger, type LogLevel } from '../pipeline/log.ts';
import type { ExecutionProvider } from '../pipeline/node.ts';
import { benchDecode, type DecodeResult } from './decode-bench.ts';
import { benchChain, benchInference, modelIdOf, type ChainResult, type InferenceResult } from './inference-bench.ts';
import { PacketCollector } from './probe-sink.ts';
import { loadBenchSpec, phaseFigures, runPhase, stepMs, type PhaseFigures } from './pipeline-phase.ts';
import { formatReport, formatSoak } from './report.ts';
import { benchSoak, type SoakResult } from './soak.ts';
import { percentile, rssMB, round } from './stats.ts';

export const BENCH_USAGE = `panoptes bench [config] [options]

Measures what this machine does with a config (default configs/dashcam.yaml), in one run on
the same clips and models: decode alone, the bare inference loop per model and back to back,
the whole pipeline lossless (--no-realtime) and live, latency, time per node, memory, drops.
The config's sinks are replaced by a probe: no viewer (no port), no events file.

Options:
  --frames <N>        frames per source for decode and pipeline runs (default 200; clips loop)
  --runs <N>          timed runs per model in the bare inference loop (default 50)
  --ep <provider>     onnxruntime execution provider: cpu, webgpu, cuda or tensorrt
  --no-live           skip the live (paced) run that measures latency
  --soak <N>          instead: a lossless run of N frames per source, resident memory sampled
  --sample-every <N>  soak sampling interval in frames (default 250)
  --json              one JSON object on stdout instead of tables`;

const EXECUTION_PROVIDERS: readonly ExecutionProvider[] = ['cpu', 'webgpu', 'cuda', 'tensorrt'];
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_BENCH_CONFIG = path.join(REPO_ROOT, 'configs/dashcam.yaml');

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

function wholeNumber(value: string | undefined, flag: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} expects a whole number of at least ${min}, got "${value}"`);
  return n;
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

/** `panoptes bench`: returns the process exit code (0 done, 1 a stream failed, 2 usage). */
export async function benchCommand(args: readonly string[], write: (s: string) => void = (s) => void process.stdout.write(s)): Promise<number> {
  const log = createLogger((process.env.PANOPTES_LOG as LogLevel | undefined) ?? 'warn');
  const progress = (line: string) => void process.stderr.write(`bench: ${line}\n`);
  let options: BenchOptions;
  let soak: { frames: number; sampleEvery: number } | undefined;
  let json: boolean;
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        frames: { type: 'string' },
        runs: { type: 'string' },
        ep: { type: 'string' },
        'no-live': { type: 'boolean', default: false },
        soak: { type: 'string' },
        'sample-every': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      write(BENCH_USAGE + '\n');
      return 0;
    }
    if (positionals.length > 1) throw new UsageError('expected at most one config file');
    const ep = values.ep;
    if (ep !== undefined && !EXECUTION_PROVIDERS.includes(ep as ExecutionProvider)) {
      throw new UsageError(`--ep expects one of ${EXECUTION_PROVIDERS.join(', ')}, got "${ep}"`);
    }
    options = {
      config: positionals[0] ?? DEFAULT_BENCH_CONFIG,
      frames: wholeNumber(values.frames, '--frames', 200, 2),
      runs: wholeNumber(values.runs, '--runs', 50),
      live: !values['no-live'],
      ...(ep ? { ep: ep as ExecutionProvider } : {}),
    };
    if (values.soak !== undefined) {
      soak = { frames: wholeNumber(values.soak, '--soak', 0), sampleEvery: wholeNumber(values['sample-every'], '--sample-every', 250) };
    }
    json = values.json;
  } catch (err) {
    // parseArgs reports unknown options and missing values as errors with an ERR_PARSE_ARGS_ code.
    const parseError = String((err as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS');
    if (!(err instanceof UsageError) && !parseError) throw err;
    process.stderr.write(`error [panoptes] ${(err as Error).message}\n\n${BENCH_USAGE}\n`);
    return 2;
  }

  if (soak) {
    const result: SoakResult = await benchSoak({ config: options.config, frames: soak.frames, sampleEvery: soak.sampleEvery, ep: options.ep }, log, progress);
    const report = { config: path.relative(process.cwd(), options.config) || options.config, soak: result };
    write(json ? JSON.stringify(report) + '\n' : formatSoak(report.config, result));
    return result.failures.length ? 1 : 0;
  }

  const result = await runBench(options, log, progress);
  write(json ? JSON.stringify(result) + '\n' : formatReport(result));
  return result.pipeline.failures.length || (result.live?.failures.length ?? 0) ? 1 : 0;
}

/**
 * {@link benchCommand} outside the `panoptes` CLI (`tsx bench/...`): a config or data mistake is
 * printed as one line (exit 2 for a config mistake, else 1), as the CLI does.
 */
export async function benchStandalone(args: readonly string[], write?: (s: string) => void): Promise<number> {
  try {
    return await benchCommand(args, write);
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    process.stderr.write(`error [panoptes] ${error.message}\n`);
    if (process.env.PANOPTES_LOG === 'debug' && error.stack) process.stderr.write(error.stack + '\n');
    return error instanceof ConfigError ? 2 : 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exit(await benchStandalone(process.argv.slice(2)));
}
