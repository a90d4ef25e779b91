/**
 * A pipeline run to inject faults into, and the figures the fault suite checks: every state each
 * stream went through (timestamped), how long a stream took to run again after a fault, and how
 * many frames each stream processed over a window. Used by test/faults/ (small graphs, a few
 * faults) and by bench/faults.bench.ts (configs/multi.yaml, 20 kills and 5 camera restarts).
 */
import { buildGraph, type Graph, type StreamOutcome } from '../pipeline/graph.ts';
import { createLogger } from '../pipeline/log.ts';
import { PipelineMetrics } from '../pipeline/metrics.ts';
import type { SourceState } from '../pipeline/stream-stats.ts';
import { checkConfigFile } from '../pipeline/config/config-file.ts';
import { resolveGraphSpec, type GraphSpec } from '../pipeline/config/resolve.ts';
import { builtinNodes } from '../nodes/index.ts';
import { killSource, sourcePids } from './faults-camera.ts';

export interface StateSeen {
  readonly stream: string;
  readonly state: SourceState;
  readonly atMs: number;
}

/** Metrics that also keep every change of a source's state, with the time it happened. */
export class RecordingMetrics extends PipelineMetrics {
  readonly seen: StateSeen[] = [];

  override sourceState(stream: string, state: SourceState): void {
    const last = this.seen.findLast((s) => s.stream === stream);
    if (last?.state !== state) this.seen.push({ stream, state, atMs: performance.now() });
    super.sourceState(stream, state);
  }

  stateOf(stream: string): SourceState | undefined {
    return this.seen.findLast((s) => s.stream === stream)?.state;
  }

  processedOf(stream: string): number {
    return this.snapshot().find((s) => s.stream === stream)?.processed ?? 0;
  }
}

/** One fault and what followed: the states the stream went through, and its time back to running. */
export interface Recovery {
  readonly fault: string;
  /** From the fault to the stream's first frame after it. */
  readonly recoveryMs: number;
  readonly states: readonly SourceState[];
  /** When (performance.now()) it ran again. */
  readonly recoveredAtMs: number;
  /** The backoff waits the source logged meanwhile (`reconnecting in N ms`), in order. */
  readonly backoffMs: readonly number[];
}

export class FaultRun {
  readonly outcomes: Promise<StreamOutcome[]>;

  private constructor(
    readonly graph: Graph,
    readonly metrics: RecordingMetrics,
    /** Every log line of the run, debug ones included. */
    readonly lines: readonly string[],
  ) {
    this.outcomes = graph.run();
  }

  /**
   * Builds and starts the graph of `config` (a parsed config file's object). Log lines are kept
   * in {@link lines} (debug included: the ffmpeg pids come from them); `echo` also prints them.
   */
  static start(config: unknown, options: { dataDir: string; echo?: (line: string) => void }): Promise<FaultRun> {
    return FaultRun.startSpec(resolveGraphSpec(checkConfigFile(config, 'fault-run'), 'fault-run', builtinNodes()), options);
  }

  /** {@link start} for a spec already resolved (a config file read with loadPipeline). */
  static async startSpec(spec: GraphSpec, options: { dataDir: string; echo?: (line: string) => void }): Promise<FaultRun> {
    const lines: string[] = [];
    const log = createLogger('debug', (line) => {
      lines.push(line);
      if (!line.startsWith('debug')) options.echo?.(line);
    });
    const metrics = new RecordingMetrics();
    const graph = await buildGraph(spec, { dataDir: options.dataDir, log, metrics });
    return new FaultRun(graph, metrics, lines);
  }

  /** Polls `condition` every 10 ms; rejects naming `what` after `timeoutMs`. */
  async waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!condition()) {
      if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** The pid of the ffmpeg that `stream`'s source runs now. */
  currentPid(stream: string): number | undefined {
    return sourcePids(this.lines, stream).at(-1);
  }

  /**
   * Injects a fault with `inject`, then waits (up to `timeoutMs`) until `stream` has left
   * `running` and is running again (its source decodes frames); returns the time that took and
   * the states seen. (Whether those frames get through the pipeline is the events check's
   * business: on a loaded machine a frame may take many seconds through the models.)
   */
  async faultAndRecover(stream: string, fault: string, inject: () => void | Promise<void>, timeoutMs: number): Promise<Recovery> {
    await this.waitFor(() => this.metrics.stateOf(stream) === 'running', timeoutMs, `${stream} running before the fault`);
    const from = this.metrics.seen.length;
    const fromLine = this.lines.length;
    const startedAt = performance.now();
    await inject();
    const after = () => this.metrics.seen.slice(from).filter((s) => s.stream === stream);
    const down = () => after().findIndex((s) => s.state !== 'running');
    await this.waitFor(() => down() >= 0, timeoutMs, `${stream} to notice ${fault}`);
    const backAgain = () => after().slice(down()).find((s) => s.state === 'running');
    await this.waitFor(() => backAgain() !== undefined, timeoutMs, `${stream} running again after ${fault}`);
    const back = backAgain()!;
    const states = after().filter((s) => s.atMs <= back.atMs).map((s) => s.state);
    const backoffMs = this.lines
      .slice(fromLine)
      .filter((line) => line.includes(`:${stream}:source]`))
      .flatMap((line) => {
        const wait = /reconnecting in (\d+) ms/.exec(line);
        return wait ? [Number(wait[1])] : [];
      });
    return { fault, recoveryMs: back.atMs - startedAt, recoveredAtMs: back.atMs, states, backoffMs };
  }

  /** Kills `stream`'s ffmpeg with `signal` and waits for it to come back. */
  killAndRecover(stream: string, signal: NodeJS.Signals, timeoutMs: number): Promise<Recovery> {
    return this.faultAndRecover(
      stream,
      `ffmpeg killed with ${signal}`,
      () => {
        const pid = this.currentPid(stream);
        if (pid === undefined || !killSource(pid, signal)) throw new Error(`no running ffmpeg for ${stream} to kill`);
      },
      timeoutMs,
    );
  }

  /** Frames per second each stream processed over the next `ms`. */
  async rates(ms: number): Promise<Record<string, number>> {
    const before = new Map(this.metrics.snapshot().map((s) => [s.stream, s.processed]));
    const startedAt = performance.now();
    await new Promise((resolve) => setTimeout(resolve, ms));
    const seconds = (performance.now() - startedAt) / 1000;
    return Object.fromEntries(this.metrics.snapshot().map((s) => [s.stream, (s.processed - (before.get(s.stream) ?? 0)) / seconds]));
  }

  async stop(): Promise<StreamOutcome[]> {
    await this.graph.stop();
    return this.outcomes;
  }
}
