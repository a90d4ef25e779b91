/**
 * Counters the pipeline keeps per stream: what came in, what came out, what was dropped where,
 * and how long frames took. Sinks read {@link PipelineMetrics.snapshot}; nothing here blocks.
 */
export interface StreamStats {
  readonly stream: string;
  /** Frames the source decoded. */
  readonly decoded: number;
  /** Frames that reached the sinks. */
  readonly processed: number;
  /** Frames dropped, per place (`source`, `flow-limiter`, `watchdog`, a node label, ...). */
  readonly drops: Readonly<Record<string, number>>;
  readonly dropped: number;
  /**
   * Frames a consumer skipped for one of its clients (a slow viewer), per place. They were
   * processed and delivered to everyone else, so they are not in `dropped`.
   */
  readonly skipped: Readonly<Record<string, number>>;
  /** Frames that failed in a node and were skipped, with the error logged. */
  readonly errors: number;
  /** Processed frames per second over the last few seconds. */
  readonly fps: number;
  /** Milliseconds from decode to the sinks, for the most recent frame. */
  readonly latencyMs: number;
  /** Mean milliseconds per node over the recent frames. */
  readonly nodeMs: Readonly<Record<string, number>>;
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

  constructor(readonly stream: string) {}
}

export class PipelineMetrics {
  private readonly streams = new Map<string, StreamCounters>();

  constructor(private readonly now: () => number = () => Date.now()) {}

  private of(stream: string): StreamCounters {
    let counters = this.streams.get(stream);
    if (!counters) {
      counters = new StreamCounters(stream);
      this.streams.set(stream, counters);
    }
    return counters;
  }

  decoded(stream: string): void {
    this.of(stream).decoded++;
  }

  drop(stream: string, where: string, count = 1): void {
    const drops = this.of(stream).drops;
    drops[where] = (drops[where] ?? 0) + count;
  }

  /** A frame one client of a sink did not get (it was too slow); the pipeline lost nothing. */
  skip(stream: string, where: string): void {
    const skipped = this.of(stream).skipped;
    skipped[where] = (skipped[where] ?? 0) + 1;
  }

  error(stream: string): void {
    this.of(stream).errors++;
  }

  /** Records a frame that reached the sinks, with its per-node timings. */
  processed(stream: string, capturedAtMs: number, timings: Readonly<Record<string, number>>): void {
    const counters = this.of(stream);
    const now = this.now();
    counters.processed++;
    counters.latencyMs = now - capturedAtMs;
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
      };
    });
  }
}
