/**
 * Builds and runs the RxJS graph a {@link GraphSpec} describes:
 *
 * ```
 *   source A ─► op 1 ─► op 2 ─► ... ─┐
 *   source B ─► op 1 ─► op 2 ─► ... ─┼─► every sink ─► buffers released
 *   ...                              ┘
 * ```
 *
 * A step may be a parallel block: its operators work on the same frame at once and the frame
 * goes on when all are done (parallel-stage.ts). A live chain lets `maxInFlight` frames in at
 * once, the newest first, and `maxInFlightPerStage` into its first stage, so that with more than
 * one the next frame's inference starts as this one leaves the models (flow-limiter.ts); a
 * lossless one is bounded by its source's pool. In a
 * live chain, a frame still in flight `frameTimeoutMs` after it went in is reported with the stage
 * that holds it, counted as a drop at `watchdog`, and its place goes to the next frame.
 *
 * One chain per source, with its own operator instances (per-stream state never mixes) and
 * shared side packets (one inference session per model). A chain that fails is logged and
 * reported to the sinks; the others go on. A sink that fails (its disk fills) is logged once and
 * stops the run, unless it is `optional` (see watchSinkFailures). Everything expensive is created, and checked, before
 * the first frame flows; if any of it fails, what was already created is disposed.
 */
import { tap, type Observable, type Subscription } from 'rxjs';
import { releasePacket, type FramePacket } from './frame.ts';
import type { Logger } from './log.ts';
import { PipelineMetrics } from './metrics.ts';
import { isOptionalSink, type ChainContext, type GraphContext, type Sink } from './node.ts';
import { sectionsWritten, type GraphSpec } from './config/resolve.ts';
import { FirstStageExit, flowLimiter, type FrameWatchdog } from './flow/flow-limiter.ts';
import { FrameWhereabouts } from './flow/frame-whereabouts.ts';
import { parallelStage, type Branch } from './flow/parallel-stage.ts';

/** Where a live stream's frames are dropped while its chain is full, in drop counts and logs. */
export const FLOW_LIMITER_LABEL = 'flow-limiter';

/** Where a live stream's frames held past `frameTimeoutMs` are counted, in drop counts and logs. */
export const WATCHDOG_LABEL = 'watchdog';

/** How often a running graph asks its sinks whether they failed (also after every frame). */
export const SINK_FAILURE_POLL_MS = 200;

export interface StreamOutcome {
  readonly stream: string;
  readonly error?: Error;
}

export interface Graph {
  readonly streams: readonly string[];
  readonly metrics: PipelineMetrics;
  readonly sinks: readonly Sink[];
  /** Starts every chain; resolves when all have ended (end of file, failure or stop). */
  run(): Promise<StreamOutcome[]>;
  /** Stops the sources, then closes the sinks and the shared resources. Idempotent. */
  stop(): Promise<void>;
}

interface Disposer {
  readonly key: string;
  dispose(): void | Promise<void>;
}

function sharedCache(disposers: Disposer[]): GraphContext['shared'] {
  const values = new Map<string, Promise<unknown>>();
  return <T>(key: string, create: () => Promise<T>, dispose?: (value: T) => void | Promise<void>) => {
    let value = values.get(key) as Promise<T> | undefined;
    if (!value) {
      value = create();
      values.set(key, value);
      // Only what was created needs disposing; a failed creation is not cached either, and its
      // error reaches every node that awaits it.
      value.then(
        (created) => dispose && disposers.push({ key, dispose: () => dispose(created) }),
        () => values.delete(key),
      );
    }
    return value;
  };
}

export async function buildGraph(
  spec: GraphSpec,
  options: { dataDir: string; log: Logger; metrics?: PipelineMetrics },
): Promise<Graph> {
  const { log } = options;
  const metrics = options.metrics ?? new PipelineMetrics();
  const abort = new AbortController();
  const disposers: Disposer[] = [];
  const sinks: Sink[] = [];
  /** Each sink's label and whether it is optional, by the sink's index in `sinks`. */
  const sinkEntries: { label: string; optional: boolean }[] = [];
  const context: GraphContext = {
    log,
    metrics,
    dataDir: options.dataDir,
    signal: abort.signal,
    executionProviders: spec.executionProviders,
    inferenceSchedule: spec.inferenceSchedule,
    streams: spec.sources.map((s) => s.id),
    shared: sharedCache(disposers),
  };

  /** Set once a sink failed that is not optional: the graph stops itself. */
  let stopForFailure: (() => void) | undefined;
  /**
   * Logs each sink failure once (a sink that failed says so in `failure()`), counts it, and stops
   * the run unless the sink is optional.
   */
  const failedSinks = new Set<number>();
  const watchSinkFailures = () => {
    for (const [i, sink] of sinks.entries()) {
      if (failedSinks.has(i)) continue;
      const reason = sink.failure?.();
      if (reason === undefined) continue;
      failedSinks.add(i);
      const { label, optional } = sinkEntries[i]!;
      metrics.sinkFailed(label, reason, optional);
      if (optional) {
        log.error(`sink failed: ${label}: ${reason}; it is optional: the run goes on without it`);
      } else {
        log.error(`sink failed: ${label}: ${reason}; stopping the run`);
        stopForFailure?.();
      }
    }
  };

  const disposeAll = async () => {
    abort.abort();
    const results = await Promise.allSettled([
      ...sinks.map((sink) => sink.close()),
      ...disposers.map((d) => Promise.resolve().then(() => d.dispose())),
    ]);
    // A failure that came while a sink was finishing its file is reported here, once.
    stopForFailure = undefined;
    watchSinkFailures();
    for (const [i, result] of results.entries()) {
      // A sink that failed rejects its close with the same failure: already reported.
      if (result.status === 'rejected' && !(i < sinks.length && sinks[i]!.failure?.() !== undefined)) {
        log.warn(`while stopping: ${String(result.reason)}`);
      }
    }
  };

  /** Reports a frame held too long with the stage that holds it, and counts it; the stream goes on. */
  const watchdogFor = (stream: string, whereabouts: FrameWhereabouts): FrameWatchdog => {
    const watchdogLog = log.child(`${stream}:${WATCHDOG_LABEL}`);
    return {
      timeoutMs: spec.frameTimeoutMs,
      onTimeout: (packet, heldMs) => {
        metrics.drop(stream, WATCHDOG_LABEL);
        watchdogLog.warn(
          `frame ${packet.frame.seq} held by ${whereabouts.describe(packet.frame)} for ${Math.round(heldMs)} ms ` +
            `(frameTimeoutMs ${spec.frameTimeoutMs}): counted as a drop at ${WATCHDOG_LABEL}, the next frame goes in`,
        );
      },
      onLateRelease: (packet, heldMs) =>
        watchdogLog.info(`frame ${packet.frame.seq} released after ${Math.round(heldMs)} ms, after the watchdog had given up on it`),
    };
  };

  const chains: { stream: string; frames$: Observable<FramePacket> }[] = [];
  try {
    for (const source of spec.sources) {
      const lossless = source.node.lossless?.(source.options) ?? false;
      metrics.sourceState(source.id, 'starting');
      const chainContext = (label: string, position: number): ChainContext => ({
        ...context,
        stream: source.id,
        lossless,
        label,
        position,
        log: log.child(`${source.id}:${label}`),
      });
      let frames$ = await source.node.create(source.options, chainContext('source', 0));
      // Live chains only: a lossless chain has no flow limiter, hence no watchdog to tell.
      const whereabouts = lossless ? undefined : new FrameWhereabouts();
      let firstStageExit: FirstStageExit | undefined;
      if (whereabouts) {
        // Live: the newest frame waits at the door while the chain is full (MediaPipe's flow limiter).
        const onDrop = (dropped: FramePacket) => {
          metrics.drop(source.id, FLOW_LIMITER_LABEL);
          releasePacket(dropped);
        };
        // The next frame goes into the first stage as this one leaves it (FirstStageExit).
        firstStageExit = new FirstStageExit();
        const firstStage = { maxInFlight: spec.maxInFlightPerStage, exit: firstStageExit };
        frames$ = frames$.pipe(flowLimiter(spec.maxInFlight, onDrop, watchdogFor(source.id, whereabouts), firstStage));
      }
      for (const [position, step] of spec.pipeline.entries()) {
        if (whereabouts) frames$ = frames$.pipe(tap((packet) => whereabouts.handedTo(packet.frame, step.label)));
        if ('parallel' in step) {
          const branches: Branch[] = [];
          for (const branch of step.parallel) {
            const operator = await branch.node.create(branch.options, chainContext(branch.label, position));
            branches.push({ label: branch.label, writes: sectionsWritten(branch.node), operator });
          }
          frames$ = parallelStage(chainContext(step.label, position), branches, whereabouts)(frames$);
        } else {
          frames$ = (await step.node.create(step.options, chainContext(step.label, position)))(frames$);
        }
        if (position === 0 && firstStageExit) {
          const exit = firstStageExit;
          frames$ = frames$.pipe(tap((packet) => exit.exited(packet.frame)));
        }
      }
      chains.push({ stream: source.id, frames$ });
    }
    for (const sink of spec.sinks) {
      const created = await sink.node.create(sink.options, { ...context, log: log.child(sink.label) });
      sinks.push(created);
      sinkEntries.push({ label: sink.label, optional: isOptionalSink(sink.options) });
      if (created.status) metrics.watchSink(sink.label, () => created.status?.());
    }
  } catch (err) {
    await disposeAll();
    throw err;
  }

  const subscriptions: Subscription[] = [];
  let stopping: Promise<void> | undefined;
  let failurePoll: NodeJS.Timeout | undefined;

  const deliver = (packet: FramePacket) => {
    const behind: Promise<void>[] = [];
    try {
      for (const sink of sinks) {
        try {
          sink.write(packet);
          const wait = sink.backpressure?.();
          if (wait) behind.push(wait);
        } catch (err) {
          log.error(`sink failed on ${packet.frame.stream}#${packet.frame.seq}: ${(err as Error).message}`);
        }
      }
      metrics.processed(packet.frame.stream, packet.frame.capturedAtMs, packet.timings);
      watchSinkFailures();
    } finally {
      // A sink that is behind keeps the packet's buffers until it catches up (backpressure).
      if (behind.length === 0) releasePacket(packet);
      else void Promise.allSettled(behind).then(() => releasePacket(packet));
    }
  };

  const endStream = (stream: string, error?: Error) => {
    for (const sink of sinks) sink.streamEnded?.(stream, error);
  };

  const graph: Graph = {
    streams: chains.map((c) => c.stream),
    metrics,
    sinks,
    run() {
      // A sink can fail between frames (a write's callback): asked on a timer too, so that a
      // failed disk stops the run within a fraction of a second even when no frame comes.
      stopForFailure = () => void graph.stop();
      failurePoll ??= setInterval(watchSinkFailures, SINK_FAILURE_POLL_MS).unref();
      return Promise.all(
        chains.map(
          ({ stream, frames$ }) =>
            new Promise<StreamOutcome>((resolve) => {
              const finish = (error?: Error) => {
                metrics.sourceState(stream, error ? 'failed' : 'ended');
                if (error) log.error(`stream ${stream} failed: ${error.message}`);
                else log.info(`stream ${stream} ended`);
                endStream(stream, error);
                resolve(error ? { stream, error } : { stream });
              };
              const subscription = frames$.subscribe({
                next: deliver,
                error: (err: unknown) => finish(err instanceof Error ? err : new Error(String(err))),
                complete: () => finish(),
              });
              // Stopping unsubscribes; that ends the stream too, without an error.
              subscription.add(() => {
                if (abort.signal.aborted) resolve({ stream });
              });
              subscriptions.push(subscription);
            }),
        ),
      );
    },
    stop() {
      stopping ??= (async () => {
        clearInterval(failurePoll);
        abort.abort();
        for (const subscription of subscriptions) subscription.unsubscribe();
        await disposeAll();
      })();
      return stopping;
    },
  };
  return graph;
}
