/**
 * The ceiling: each model the config uses, run on one prepared tensor back to back through the
 * same {@link openModelSession} the pipeline uses (worker thread, postMessage copies and all),
 * then all of them back to back per frame (the chain), then all of them at once, each model
 * kept busy on its own (two frames in flight, as the overlapped graph runs them). A model that
 * looks at a frame in slices runs once per slice in the chain and in the concurrent loop (one
 * run after the other; a model with a dynamic batch runs its slices as one batch in the
 * pipeline, a little faster than that).
 */
import type { Frame } from '../pipeline/frame.ts';
import type { Logger } from '../pipeline/log.ts';
import type { ExecutionProvider } from '../pipeline/node.ts';
import { stepOperators, type GraphSpec, type ResolvedOperator } from '../pipeline/config/resolve.ts';
import { findModel, loadModelCatalog, type ModelEntry } from '../nodes/inference/model-catalog.ts';
import { openModelSession, type ModelSession } from '../nodes/inference/model-session.ts';
import { createPreprocessor } from '../nodes/inference/preprocess.ts';
import { planSlices, type SlicesOptions } from '../nodes/inference/slices.ts';
import { cpuMsSince, mean, median, round } from './stats.ts';

export interface ModelTiming {
  readonly model: string;
  readonly provider: ExecutionProvider;
  readonly msP50: number;
  readonly msMean: number;
  readonly fps: number;
}

export interface InferenceResult {
  readonly runs: number;
  readonly models: readonly ModelTiming[];
  /** Every model back to back on the same frame: the rate a serial pipeline could at best reach. */
  readonly chain: {
    readonly models: readonly string[];
    readonly msP50: number;
    readonly msMean: number;
    readonly fps: number;
    /** CPU milliseconds per frame, all threads (see cpuMsSince). */
    readonly cpuMsPerFrame: number;
  };
  /** Every model at once, each running its own loop: frames/s when the models overlap. */
  readonly concurrent: { readonly fps: number; readonly cpuMsPerFrame: number };
}

/** The chain alone, measured again (after the pipeline run), to see how much the machine drifted. */
export type ChainResult = InferenceResult['chain'];

/** The catalog id of the model an operator runs, if it runs one (its `model` option). */
export function modelIdOf(operator: ResolvedOperator): string | undefined {
  const model = (operator.options as { model?: unknown } | null)?.model;
  return typeof model === 'string' ? model : undefined;
}

/** A model the config uses, and how many times a frame of the given size it runs. */
export interface ModelUse {
  readonly entry: ModelEntry;
  readonly runsPerFrame: number;
}

/** How many runs an operator's model makes on a `width x height` frame: one per slice, else one. */
function runsOf(operator: ResolvedOperator, width: number, height: number): number {
  const slices = (operator.options as { slices?: SlicesOptions } | null)?.slices;
  return slices ? planSlices(width, height, slices).length : 1;
}

/** The models the config's operators use on a `width x height` frame, in pipeline order, each once. */
export function modelUsesOf(spec: GraphSpec, width: number, height: number): ModelUse[] {
  const catalog = loadModelCatalog();
  const runs = new Map<string, number>();
  for (const operator of spec.pipeline.flatMap(stepOperators)) {
    const model = modelIdOf(operator);
    if (model !== undefined) runs.set(model, (runs.get(model) ?? 0) + runsOf(operator, width, height));
  }
  return [...runs].map(([id, runsPerFrame]) => ({ entry: findModel(catalog, id), runsPerFrame }));
}

/** The catalog entries of the models the config's operators use, in pipeline order, each once. */
export function modelsOf(spec: GraphSpec): ModelEntry[] {
  return modelUsesOf(spec, 1, 1).map((use) => use.entry);
}

async function timed(n: number, body: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await body();
    times.push(performance.now() - started);
  }
  return times;
}

async function withSessions<T>(
  spec: GraphSpec,
  dataDir: string,
  frame: Frame,
  log: Logger,
  body: (sessions: ModelSession[], tensors: Float32Array[], runsPerFrame: number[]) => Promise<T>,
): Promise<T | undefined> {
  const uses = modelUsesOf(spec, frame.width, frame.height);
  if (uses.length === 0) return undefined;
  const sessions: ModelSession[] = [];
  try {
    for (const { entry } of uses) sessions.push(await openModelSession(entry, dataDir, spec.executionProviders, log.child('inference')));
    // One prepared tensor per model, copied: the preprocessor reuses its own buffer.
    const tensors = sessions.map((s) => createPreprocessor(s.entry.input)(frame).tensor.slice());
    return await body(sessions, tensors, uses.map((u) => u.runsPerFrame));
  } finally {
    await Promise.all(sessions.map((s) => s.release()));
  }
}

const warmUpRuns = (runs: number) => Math.max(2, Math.min(5, Math.ceil(runs / 10)));

/** Runs model `i` as many times as it runs on a frame. */
async function frameRuns(session: ModelSession, tensor: Float32Array, runsPerFrame: number): Promise<void> {
  for (let r = 0; r < runsPerFrame; r++) await session.run(tensor);
}

async function chain(sessions: ModelSession[], tensors: Float32Array[], runsPerFrame: number[], runs: number): Promise<ChainResult> {
  const chainOnce = async () => {
    for (const [i, session] of sessions.entries()) await frameRuns(session, tensors[i]!, runsPerFrame[i]!);
  };
  await timed(warmUpRuns(runs), chainOnce);
  const cpuBefore = process.cpuUsage();
  const chainTimes = await timed(runs, chainOnce);
  const cpuMs = cpuMsSince(cpuBefore);
  const chainTotal = chainTimes.reduce((a, b) => a + b, 0);
  return {
    models: sessions.map((s, i) => (runsPerFrame[i] === 1 ? s.entry.id : `${s.entry.id} x${runsPerFrame[i]}`)),
    msP50: round(median(chainTimes), 1),
    msMean: round(mean(chainTimes), 1),
    fps: round((runs * 1000) / chainTotal, 2),
    cpuMsPerFrame: round(cpuMs / runs, 1),
  };
}

/** Only the back-to-back chain, with freshly opened sessions. */
export function benchChain(spec: GraphSpec, dataDir: string, frame: Frame, runs: number, log: Logger): Promise<ChainResult | undefined> {
  return withSessions(spec, dataDir, frame, log, (sessions, tensors, runsPerFrame) => chain(sessions, tensors, runsPerFrame, runs));
}

export function benchInference(
  spec: GraphSpec,
  dataDir: string,
  frame: Frame,
  runs: number,
  log: Logger,
): Promise<InferenceResult | undefined> {
  return withSessions(spec, dataDir, frame, log, async (sessions, tensors, runsPerFrame) => {
    const warmUp = warmUpRuns(runs);
    const models: ModelTiming[] = [];
    for (const [i, session] of sessions.entries()) {
      await timed(warmUp, () => session.run(tensors[i]!));
      const times = await timed(runs, () => session.run(tensors[i]!));
      const total = times.reduce((a, b) => a + b, 0);
      models.push({
        model: session.entry.id,
        provider: session.provider,
        msP50: round(median(times), 1),
        msMean: round(mean(times), 1),
        fps: round((runs * 1000) / total, 1),
      });
    }

    const chainResult = await chain(sessions, tensors, runsPerFrame, runs);

    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    await Promise.all(sessions.map((s, i) => timed(runs, () => frameRuns(s, tensors[i]!, runsPerFrame[i]!))));
    const concurrentMs = performance.now() - started;
    const concurrent = { fps: round((runs * 1000) / concurrentMs, 2), cpuMsPerFrame: round(cpuMsSince(cpuBefore) / runs, 1) };

    return { runs, models, chain: chainResult, concurrent };
  });
}
