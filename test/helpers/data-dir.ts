/**
 * What tests need to run nodes against the real data: where it is, and a {@link ChainContext}
 * whose log, metrics and abort signal a test can look at.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMemoryLogger } from '../../pipeline/log.ts';
import { PipelineMetrics } from '../../pipeline/metrics.ts';
import type { ChainContext, GraphContext } from '../../pipeline/node.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The data directory: `PANOPTES_DATA`, else the shared checkout next to the repository. */
export function dataDir(): string {
  return process.env.PANOPTES_DATA ?? path.resolve(repoRoot, '../shared');
}

type MemoryLogger = ReturnType<typeof createMemoryLogger>;

/** A {@link ChainContext} with the concrete pieces exposed, so tests can read lines and counters. */
export type TestChainContext = ChainContext & {
  readonly log: MemoryLogger;
  readonly metrics: PipelineMetrics;
  /** Aborts the context's own signal, as stopping the pipeline does (not a `signal` passed in). */
  readonly abort: () => void;
};

export type ChainContextOverrides = Partial<Omit<ChainContext, 'log' | 'metrics'>> & {
  readonly log?: MemoryLogger;
  readonly metrics?: PipelineMetrics;
};

/**
 * A context for one node in stream `test`: memory logger, real metrics, a fresh abort signal, and
 * `shared` values kept in a map of promises (created once per key, never disposed). Lossless
 * unless `overrides` say otherwise.
 */
export function chainContext(overrides: ChainContextOverrides = {}): TestChainContext {
  const controller = new AbortController();
  const sharedValues = new Map<string, Promise<unknown>>();
  const shared = <T>(key: string, create: () => Promise<T>): Promise<T> => {
    let value = sharedValues.get(key);
    if (!value) {
      value = create();
      sharedValues.set(key, value);
    }
    return value as Promise<T>;
  };
  return {
    stream: 'test',
    lossless: true,
    label: 'test-node',
    position: 0,
    dataDir: dataDir(),
    executionProviders: ['cpu'],
    inferenceSchedule: 'parallel',
    streams: [overrides.stream ?? 'test'],
    signal: controller.signal,
    shared,
    ...overrides,
    log: overrides.log ?? createMemoryLogger(),
    metrics: overrides.metrics ?? new PipelineMetrics(),
    abort: () => controller.abort(),
  };
}

/** A graph context for sinks, with the given streams; `shared` creates without caching. */
export function graphContext(streams: readonly string[]): GraphContext & { readonly log: MemoryLogger; readonly metrics: PipelineMetrics } {
  return {
    log: createMemoryLogger(),
    metrics: new PipelineMetrics(),
    dataDir: dataDir(),
    signal: new AbortController().signal,
    executionProviders: ['cpu'],
    inferenceSchedule: 'parallel',
    streams,
    shared: <T>(_key: string, create: () => Promise<T>) => create(),
  };
}
