import { createLogger } from '../pipeline/log.ts';
import { PipelineMetrics } from '../pipeline/metrics.ts';
import type { ChainContext } from '../pipeline/node.ts';

/** A lossless chain context for running one node alone in a benchmark. */
export function chainContextFor(dataDir: string, label = 'overlay'): ChainContext {
  const values = new Map<string, Promise<unknown>>();
  return {
    stream: 'bench',
    streams: ['bench'],
    lossless: true,
    label,
    position: 0,
    dataDir,
    executionProviders: ['cpu'],
    inferenceSchedule: 'parallel',
    signal: new AbortController().signal,
    log: createLogger('warn'),
    metrics: new PipelineMetrics(),
    shared: <T>(key: string, create: () => Promise<T>) => {
      if (!values.has(key)) values.set(key, create());
      return values.get(key) as Promise<T>;
    },
  };
}
