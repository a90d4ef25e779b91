/**
 * `panoptes bench`: reads the options, runs the pipeline benchmark (bench/pipeline-bench.ts), the
 * soak (bench/soak.ts) or the accuracy bench (bench/accuracy.bench.ts), and with `--all` the
 * component benchmarks and the accuracy bench after it, which is what `npm run bench` runs.
 * Prints tables, or one JSON object with `--json`.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatAccuracy, formatComponentBenches, formatReport, formatSoak } from '../bench/report.ts';
import { UsageError } from '../lib/errors.ts';
import type { AccuracyResult } from '../bench/accuracy.bench.ts';
import { createLogger, type LogLevel } from '../pipeline/log.ts';
import { writeToStdout, type Command, type Write } from './command.ts';
import { executionProviderOption } from './execution-provider-option.ts';
import { parseCommandLine, wholeNumber } from './parse-command-line.ts';

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
  --live              with --soak: paced like a camera (N frames decoded per source, the flow
                      limiter drops what the graph cannot take, as many in flight as the config sets)
  --sample-every <N>  soak sampling interval in frames (default 250)
  --faults            instead: the fault bench (default config configs/multi.yaml): the first
                      stream's ffmpeg killed 20 times, the last stream served by a local HTTP
                      camera restarted 5 times; recovery times and the other streams' rates
  --accuracy          instead: what each shipped config sees on the annotated data (or only the
                      config given), run lossless with its sources and sinks replaced and scored
                      as panoptes eval mot scores: person tracks and detections on MOT17-02
                      frames 1-4, the traffic clip's line counts, every vehicle of five
                      highway frames by size, the small cars of a drawn drone clip;
                      frames/s of each run on cpu (or on --ep)
  --all               then the tracker, segmentation-evaluation and viewer-client benchmarks,
                      and the accuracy bench (what npm run bench runs)
  --json              one JSON object on stdout instead of tables
                      (with --all: { pipeline, tracker, segmentationEval, viewerClients, ..., accuracy })`;

const DEFAULT_BENCH_CONFIG = fileURLToPath(new URL('../configs/dashcam.yaml', import.meta.url));
const DEFAULT_FAULTS_CONFIG = fileURLToPath(new URL('../configs/multi.yaml', import.meta.url));
const REPO = fileURLToPath(new URL('..', import.meta.url));

/** `panoptes bench`: returns the process exit code (0 done, 1 a stream failed). */
async function bench(args: readonly string[], write: Write = writeToStdout): Promise<number> {
  const { values, positionals, help } = parseCommandLine(args, {
    options: {
      frames: { type: 'string' },
      runs: { type: 'string' },
      ep: { type: 'string' },
      'no-live': { type: 'boolean', default: false },
      soak: { type: 'string' },
      live: { type: 'boolean', default: false },
      'sample-every': { type: 'string' },
      faults: { type: 'boolean', default: false },
      accuracy: { type: 'boolean', default: false },
      all: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    positionals: { min: 0, max: 1, expected: 'at most one config file' },
  });
  if (help) {
    write(BENCH_USAGE + '\n');
    return 0;
  }
  const config = positionals[0] ?? (values.faults ? DEFAULT_FAULTS_CONFIG : DEFAULT_BENCH_CONFIG);
  const frames = wholeNumber(values.frames, '--frames', { min: 2 }) ?? 200;
  const runs = wholeNumber(values.runs, '--runs', { min: 1 }) ?? 50;
  const ep = executionProviderOption(values.ep);
  const soakFrames = wholeNumber(values.soak, '--soak', { min: 1 });
  const sampleEvery = wholeNumber(values['sample-every'], '--sample-every', { min: 1 }) ?? 250;
  if (values.live && soakFrames === undefined) {
    throw new UsageError('--live goes with --soak (the plain bench runs live after lossless already; --no-live skips that)');
  }
  if (values.accuracy && (values.faults || soakFrames !== undefined || values.all)) {
    throw new UsageError(`--accuracy runs alone (--all runs it after the others); drop ${values.all ? '--all' : values.faults ? '--faults' : '--soak'}`);
  }

  // Loaded once the command line is known to be good: the benchmarks bring the whole pipeline
  // (onnxruntime, sharp, ffmpeg bindings), seconds of loading that --help and a usage mistake
  // need not wait for.
  const [{ runBench }, { benchSoak }, { benchComponents }, { benchAccuracy, ACCURACY_CASES }] = await Promise.all([
    import('../bench/pipeline-bench.ts'),
    import('../bench/soak.ts'),
    import('../bench/component-benches.ts'),
    import('../bench/accuracy.bench.ts'),
  ]);
  // Quieter than `panoptes run`: the tables are the output; PANOPTES_LOG=info shows the rest.
  const log = createLogger((process.env.PANOPTES_LOG as LogLevel | undefined) ?? 'warn');
  const progress = (line: string) => void process.stderr.write(`bench: ${line}\n`);
  const shownConfig = path.relative(process.cwd(), config) || config;

  if (values.accuracy) {
    // A config given: only its cases (a config with none is a usage mistake, named as such).
    const only = positionals[0] === undefined ? undefined : path.resolve(positionals[0]);
    if (only !== undefined && !ACCURACY_CASES.some((c) => path.resolve(REPO, c.config) === only)) {
      const configs = [...new Set(ACCURACY_CASES.map((c) => c.config))].join(', ');
      throw new UsageError(`--accuracy: ${positionals[0]} has no annotated data to be scored on; the configs that have: ${configs}`);
    }
    const accuracy = await benchAccuracy({ ...(only ? { configs: [only] } : {}), ...(ep ? { ep } : {}) }, log, progress);
    write(values.json ? JSON.stringify(accuracy) + '\n' : formatAccuracy(accuracy));
    return accuracyFailed(accuracy) ? 1 : 0;
  }

  let pipeline: { figures: object; table: string; failed: boolean };
  if (values.faults) {
    const { benchFaults, formatFaults } = await import('../bench/faults.bench.ts');
    const faults = await benchFaults({ config, ...(ep ? { ep } : {}) }, progress);
    pipeline = { figures: { config: shownConfig, faults }, table: formatFaults(faults), failed: faults.failures.length > 0 };
  } else if (soakFrames !== undefined) {
    const soak = await benchSoak({ config, frames: soakFrames, sampleEvery, live: values.live, ep }, log, progress);
    pipeline = { figures: { config: shownConfig, soak }, table: formatSoak(shownConfig, soak), failed: soak.failures.length > 0 };
  } else {
    const result = await runBench({ config, frames, runs, live: !values['no-live'], ...(ep ? { ep } : {}) }, log, progress);
    const failed = result.pipeline.failures.length > 0 || (result.live?.failures.length ?? 0) > 0;
    pipeline = { figures: result, table: formatReport(result), failed };
  }

  if (!values.all) {
    write(values.json ? JSON.stringify(pipeline.figures) + '\n' : pipeline.table);
  } else {
    if (!values.json) write(pipeline.table);
    const components = await benchComponents();
    if (!values.json) write(formatComponentBenches(components));
    const accuracy = await benchAccuracy(ep ? { ep } : {}, log, progress);
    write(values.json ? JSON.stringify({ pipeline: pipeline.figures, ...components, accuracy }) + '\n' : '\n' + formatAccuracy(accuracy));
    return pipeline.failed || accuracyFailed(accuracy) ? 1 : 0;
  }
  return pipeline.failed ? 1 : 0;
}

function accuracyFailed(accuracy: AccuracyResult): boolean {
  return accuracy.rows.some((row) => row.failures.length > 0);
}

export const benchCommand: Command = { usage: BENCH_USAGE, run: (args) => bench(args) };
