/**
 * Counters the pipeline keeps per stream: what came in, what came out, what was dropped where,
 * how long frames took, and where each source is in its life cycle. Sinks read
 * {@link PipelineMetrics.snapshot}; the same figures, plus histograms, sink backlogs, inference
 * providers and process memory, are kept for Prometheus in {@link PipelineMetrics.registry}
 * (served at `/metrics`). Nothing here blocks.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { SOURCE_STATES, type SourceState, type StreamStats } from './stream-stats.ts';

/** What a sink that serves clients or queues bytes reports (see `Sink.status`). */
export interface SinkStatus {
  /** Connected clients, for a server. */
  readonly clients?: number;
  /** Bytes waiting in the sink's queues, not yet handed to a socket or a file. */
  readonly queuedBytes: number;
  /** Bytes handed over and not yet taken. */
  readonly inFlightBytes?: number;
  /** For a sink that talks to a server (MQTT, NATS): whether it is connected now. */
  readonly connected?: boolean;
  /** Messages the sink gave up on so far (a newer one replaced them, or the server was away). */
  readonly droppedMessages?: number;
}

/** A sink that failed during the run (its disk filled, its recorder died): see `Sink.failure`. */
export interface SinkFailure {
  readonly sink: string;
  readonly reason: string;
  /** An `optional: true` sink: the run went on without it. */
  readonly optional: boolean;
  /** How long ago it failed, in ms (in {@link Readiness}). */
  readonly sinceMs?: number;
}

/** Whether every stream is running, and where each one is. */
export interface Readiness {
  readonly ready: boolean;
  readonly streams: readonly { readonly stream: string; readonly state: SourceState; readonly sinceMs: number }[];
  /** Present once a sink has failed: the run goes on without an optional one, degraded. */
  readonly degraded?: boolean;
  readonly failedSinks?: readonly SinkFailure[];
}

const FPS_WINDOW_MS = 3000;
const TIMING_SMOOTHING = 0.1;

class StreamCounters {
  decoded = 0;
  processed = 0;
  errors = 0;
  latencyMs = 0;
  readonly drops: Record<string, number> = {};
  readonly skipped: Record<string, number> = {};
  readonly nodeMs: Record<string, number> = {};
  /** Completion times of recent frames, oldest first, for the fps window. */
  readonly recent: number[] = [];
  state: SourceState = 'starting';
  stateSince: number;
  reconnects = 0;
  stalls = 0;

  constructor(
    readonly stream: string,
    now: number,
  ) {
    this.stateSince = now;
  }
}

/** Seconds; inference steps take milliseconds to a second, a whole frame up to several. */
const NODE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];

/** The Prometheus series, registered on the metrics' own registry (never the global one). */
class PrometheusSeries {
  readonly decoded: Counter<'stream'>;
  readonly processed: Counter<'stream'>;
  readonly dropped: Counter<'stream' | 'place'>;
  readonly skipped: Counter<'stream' | 'place'>;
  readonly errors: Counter<'stream'>;
  readonly nodeSeconds: Histogram<'stream' | 'node'>;
  readonly latencySeconds: Histogram<'stream'>;
  readonly reconnects: Counter<'stream'>;
  readonly stalls: Counter<'stream'>;
  readonly sinkFailures: Counter<'sink' | 'optional'>;

  constructor(
    readonly registry: Registry,
    metrics: PipelineMetrics,
    sinks: ReadonlyMap<string, () => SinkStatus | undefined>,
    providers: ReadonlyMap<string, string>,
  ) {
    const registers = [registry];
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
      new Counter<L>({ name, help, labelNames, registers });
    this.decoded = counter('panoptes_frames_decoded_total', 'Frames the source decoded (in)', ['stream']);
    this.processed = counter('panoptes_frames_processed_total', 'Frames that reached the sinks (out)', ['stream']);
    this.dropped = counter('panoptes_frames_dropped_total', 'Frames dropped, by place (source, flow-limiter, watchdog, a node)', ['stream', 'place']);
    this.skipped = counter('panoptes_frames_skipped_total', 'Frames a sink skipped for one slow client, by place', ['stream', 'place']);
    this.errors = counter('panoptes_frame_errors_total', 'Frames that failed in a node and were skipped', ['stream']);
    this.reconnects = counter('panoptes_source_reconnects_total', 'Restarts of the source after it died or stalled', ['stream']);
    this.stalls = counter('panoptes_source_stalls_total', 'Times the source went without a frame past its stall timeout', ['stream']);
    this.sinkFailures = counter(
      'panoptes_sink_errors_total',
      'Sinks that failed during the run (a disk that filled, a recorder that died), by sink; optional="true": the run went on without it',
      ['sink', 'optional'],
    );
    this.nodeSeconds = new Histogram({
      name: 'panoptes_node_duration_seconds',
      help: 'Time a node spent on a frame',
      labelNames: ['stream', 'node'],
      buckets: NODE_BUCKETS,
      registers,
    });
    this.latencySeconds = new Histogram({
      name: 'panoptes_frame_latency_seconds',
      help: 'End-to-end latency: from decode to the sinks',
      labelNames: ['stream'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    new Gauge({
      name: 'panoptes_source_state',
      help: `1 for the state each stream's source is in (${SOURCE_STATES.join(', ')}), 0 for the others`,
      labelNames: ['stream', 'state'],
      registers,
      collect() {
        this.reset();
        for (const { stream, state } of metrics.readiness().streams) {
          for (const each of SOURCE_STATES) this.set({ stream, state: each }, each === state ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'panoptes_sink_clients',
      help: 'Clients connected to a server sink (viewer, foxglove)',
      labelNames: ['sink'],
      registers,
      collect() {
        this.reset();
        for (const [sink, status] of sinks) {
          const clients = status()?.clients;
          if (clients !== undefined) this.set({ sink }, clients);
        }
      },
    });
    new Gauge({
      name: 'panoptes_sink_queued_bytes',
      help: "Bytes waiting in a sink's queues (for a server: all its clients' queues), by lane: queued or in flight",
      labelNames: ['sink', 'lane'],
      registers,
      collect() {
        this.reset();
        for (const [sink, status] of sinks) {
          const now = status();
          if (!now) continue;
          this.set({ sink, lane: 'queued' }, now.queuedBytes);
          if (now.inFlightBytes !== undefined) this.set({ sink, lane: 'in-flight' }, now.inFlightBytes);
        }
      },
    });
    new Gauge({
      name: 'panoptes_sink_connected',
      help: 'For a sink that talks to a server (mqtt, nats): 1 while connected, 0 while it is away or not reached yet',
      labelNames: ['sink'],
      registers,
      collect() {
        this.reset();
        for (const [sink, status] of sinks) {
          const connected = status()?.connected;
          if (connected !== undefined) this.set({ sink }, connected ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'panoptes_sink_dropped_messages',
      help: 'Messages a sink gave up on since the start (a newer count replaced them, frames skipped while its server was away)',
      labelNames: ['sink'],
      registers,
      collect() {
        this.reset();
        for (const [sink, status] of sinks) {
          const dropped = status()?.droppedMessages;
          if (dropped !== undefined) this.set({ sink }, dropped);
        }
      },
    });
    new Gauge({
      name: 'panoptes_inference_provider_info',
      help: 'The onnxruntime execution provider that runs each model (always 1)',
      labelNames: ['model', 'provider'],
      registers,
      collect() {
        this.reset();
        for (const [model, provider] of providers) this.set({ model, provider }, 1);
      },
    });
    // Memory (resident, heap), CPU, event loop lag, handles: prom-client's standard process series.
    collectDefaultMetrics({ register: registry });
  }
}

export class PipelineMetrics {
  private readonly streams = new Map<string, StreamCounters>();
  private readonly sinks = new Map<string, () => SinkStatus | undefined>();
  private readonly providers = new Map<string, string>();
  private readonly failedSinks: (SinkFailure & { readonly atMs: number })[] = [];
  private series: PrometheusSeries | undefined;

  constructor(private readonly now: () => number = () => Date.now()) {}

  /**
   * The Prometheus registry with every series above; created on first use, from which point
   * frames are also counted there (a pipeline that serves `/metrics` asks for it before the first frame).
   */
  get registry(): Registry {
    return this.prometheus().registry;
  }

  private prometheus(): PrometheusSeries {
    if (!this.series) {
      this.series = new PrometheusSeries(new Registry(), this, this.sinks, this.providers);
      // Counts from before the registry existed, so the two views agree.
      for (const c of this.streams.values()) {
        const stream = { stream: c.stream };
        this.series.decoded.inc(stream, c.decoded);
        this.series.processed.inc(stream, c.processed);
        this.series.errors.inc(stream, c.errors);
        this.series.reconnects.inc(stream, c.reconnects);
        this.series.stalls.inc(stream, c.stalls);
        for (const [place, n] of Object.entries(c.drops)) this.series.dropped.inc({ ...stream, place }, n);
        for (const [place, n] of Object.entries(c.skipped)) this.series.skipped.inc({ ...stream, place }, n);
      }
      for (const f of this.failedSinks) this.series.sinkFailures.inc({ sink: f.sink, optional: String(f.optional) });
    }
    return this.series;
  }

  private of(stream: string): StreamCounters {
    let counters = this.streams.get(stream);
    if (!counters) {
      counters = new StreamCounters(stream, this.now());
      this.streams.set(stream, counters);
    }
    return counters;
  }

  decoded(stream: string): void {
    this.of(stream).decoded++;
    this.series?.decoded.inc({ stream });
  }

  drop(stream: string, where: string, count = 1): void {
    const drops = this.of(stream).drops;
    drops[where] = (drops[where] ?? 0) + count;
    this.series?.dropped.inc({ stream, place: where }, count);
  }

  /** A frame one client of a sink did not get (it was too slow); the pipeline lost nothing. */
  skip(stream: string, where: string): void {
    const skipped = this.of(stream).skipped;
    skipped[where] = (skipped[where] ?? 0) + 1;
    this.series?.skipped.inc({ stream, place: where });
  }

  error(stream: string): void {
    this.of(stream).errors++;
    this.series?.errors.inc({ stream });
  }

  /** The source of `stream` entered `state`. */
  sourceState(stream: string, state: SourceState): void {
    const counters = this.of(stream);
    if (counters.state === state) return;
    counters.state = state;
    counters.stateSince = this.now();
  }

  /** The source of `stream` is being restarted (it died or stalled). */
  reconnect(stream: string): void {
    this.of(stream).reconnects++;
    this.series?.reconnects.inc({ stream });
  }

  /** The source of `stream` went without a frame past its stall timeout. */
  stall(stream: string): void {
    this.of(stream).stalls++;
    this.series?.stalls.inc({ stream });
  }

  /** Sink `label` reports its clients and queued bytes through `status` (read on every scrape). */
  watchSink(label: string, status: () => SinkStatus | undefined): void {
    this.sinks.set(label, status);
  }

  /**
   * Sink `sink` failed for `reason` (the graph calls this once per sink): counted in `/metrics`
   * (`panoptes_sink_errors_total`) and listed in {@link readiness} (`degraded`, `failedSinks`).
   */
  sinkFailed(sink: string, reason: string, optional: boolean): void {
    if (this.failedSinks.some((f) => f.sink === sink)) return;
    this.failedSinks.push({ sink, reason, optional, atMs: this.now() });
    this.series?.sinkFailures.inc({ sink, optional: String(optional) });
  }

  /** The sinks that failed so far, in the order they failed. */
  get sinkFailures(): readonly SinkFailure[] {
    return this.failedSinks.map(({ sink, reason, optional }) => ({ sink, reason, optional }));
  }

  /** Model `model` runs on execution provider `provider`. */
  inferenceProvider(model: string, provider: string): void {
    this.providers.set(model, provider);
  }

  /** The execution provider each model actually runs on (after any fallback), by model id. */
  get inferenceProviders(): ReadonlyMap<string, string> {
    return this.providers;
  }

  /** Ready when every stream's source is running; lists where each one is either way. */
  readiness(): Readiness {
    const now = this.now();
    const streams = [...this.streams.values()].map((c) => ({ stream: c.stream, state: c.state, sinceMs: now - c.stateSince }));
    const ready = streams.length > 0 && streams.every((s) => s.state === 'running');
    if (this.failedSinks.length === 0) return { ready, streams };
    const failedSinks = this.failedSinks.map(({ sink, reason, optional, atMs }) => ({ sink, reason, optional, sinceMs: now - atMs }));
    return { ready, streams, degraded: true, failedSinks };
  }

  /** Records a frame that reached the sinks, with its per-node timings. */
  processed(stream: string, capturedAtMs: number, timings: Readonly<Record<string, number>>): void {
    const counters = this.of(stream);
    const now = this.now();
    counters.processed++;
    counters.latencyMs = now - capturedAtMs;
    // A source that does not report its life cycle is running once its frames come through.
    if (counters.state === 'starting') this.sourceState(stream, 'running');
    if (this.series) {
      this.series.processed.inc({ stream });
      this.series.latencySeconds.observe({ stream }, counters.latencyMs / 1000);
      for (const [node, ms] of Object.entries(timings)) this.series.nodeSeconds.observe({ stream, node }, ms / 1000);
    }
    counters.recent.push(now);
    while (counters.recent.length > 0 && now - counters.recent[0]! > FPS_WINDOW_MS) counters.recent.shift();
    for (const [node, ms] of Object.entries(timings)) {
      const previous = counters.nodeMs[node];
      counters.nodeMs[node] = previous === undefined ? ms : previous + TIMING_SMOOTHING * (ms - previous);
    }
  }

  snapshot(): StreamStats[] {
    const now = this.now();
    return [...this.streams.values()].map((c) => {
      const inWindow = c.recent.filter((t) => now - t <= FPS_WINDOW_MS);
      const spanMs = inWindow.length > 1 ? inWindow[inWindow.length - 1]! - inWindow[0]! : 0;
      return {
        stream: c.stream,
        decoded: c.decoded,
        processed: c.processed,
        drops: { ...c.drops },
        dropped: Object.values(c.drops).reduce((a, b) => a + b, 0),
        skipped: { ...c.skipped },
        errors: c.errors,
        fps: spanMs > 0 ? ((inWindow.length - 1) * 1000) / spanMs : 0,
        latencyMs: c.latencyMs,
        nodeMs: { ...c.nodeMs },
        state: c.state,
        reconnects: c.reconnects,
        stalls: c.stalls,
      };
    });
  }
}
