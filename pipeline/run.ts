import { buildGraph, type Graph, type StreamOutcome } from './graph.ts';
import type { Logger } from './log.ts';
import type { SinkFailure } from './metrics.ts';
import type { StreamStats } from './stream-stats.ts';
import type { GraphSpec } from './config/resolve.ts';

export interface RunResult {
  readonly outcomes: readonly StreamOutcome[];
  readonly stats: readonly StreamStats[];
  /** True when a signal stopped the run before the streams ended by themselves. */
  readonly interrupted: boolean;
  /** Sinks that failed (each logged once when it failed); one not optional stopped the run. */
  readonly failedSinks: readonly SinkFailure[];
}

/**
 * Builds the graph, runs it until every stream has ended, and stops it cleanly, also on SIGINT
 * or SIGTERM (a second signal exits at once, for a user whose stop hangs).
 */
export async function runPipeline(
  spec: GraphSpec,
  options: { dataDir: string; log: Logger; onStarted?: (graph: Graph) => void },
): Promise<RunResult> {
  const { log } = options;
  const graph = await buildGraph(spec, options);
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) {
      log.warn(`${signal} again: exiting now`);
      process.exit(130);
    }
    interrupted = true;
    log.info(`${signal}: stopping`);
    void graph.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    options.onStarted?.(graph);
    const outcomes = await graph.run();
    const stats = graph.metrics.snapshot();
    // Stopped before the result is read: a failure that came while a sink finished its file counts.
    await graph.stop();
    return { outcomes, stats, interrupted, failedSinks: graph.metrics.sinkFailures };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await graph.stop();
  }
}
