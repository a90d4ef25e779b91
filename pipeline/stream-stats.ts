/**
 * What the pipeline tells about each stream (PipelineMetrics.snapshot in metrics.ts, which
 * re-exports these): the figures the viewer protocol's `stats` message carries, and where a
 * source is in its life cycle. Plain data with nothing that needs Node, so the dashboard page's
 * type check (viewer/tsconfig.json) takes this file through the protocol.
 */

/**
 * Where a stream's source is: `starting` (its first try, no frame yet), `waiting` (its input was
 * not there at start: tried again with backoff until it answers), `running`, `stalled` (no frame
 * for its stall timeout; until its restart begins), `reconnecting` (restarting after a death or a
 * stall), `failed` (gave up, or died and may not restart), `ended` (the input ended by itself,
 * e.g. the end of a file). supervise-source.ts draws the moves between them.
 */
export const SOURCE_STATES = ['starting', 'waiting', 'running', 'stalled', 'reconnecting', 'failed', 'ended'] as const;
export type SourceState = (typeof SOURCE_STATES)[number];

/** One stream's figures now (PipelineMetrics.snapshot). */
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
  /** Where the source is in its life cycle. */
  readonly state: SourceState;
  /** Times the source was restarted after it died or stalled. */
  readonly reconnects: number;
  /** Times the source went without a frame past its stall timeout. */
  readonly stalls: number;
}
