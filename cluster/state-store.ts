/**
 * Totals that survive a stream's move to another worker: line crossings, zone entries and unique
 * objects, kept per stream in a JetStream key-value bucket and written at most once a second by
 * the worker that runs the stream. The worker that takes a stream over reads them and gives them
 * to the analytics node (its `resume` option), so counts go on rather than start again from 0.
 * A crash loses at most the last second of counts; a clean stop loses none (the last write is
 * made before the lease is handed back). Track ids start again on the new worker.
 *
 * Writes are fenced by revision: the new holder first rewrites the key, with its own name, at
 * the revision it read, so a late write from the worker that had the stream before fails instead
 * of going back in time, and that worker stops writing. A write of ours that timed out but still
 * reached the server (sent on reconnect) is recognized by the name in the key, and adopted.
 */
import type { KV } from '@nats-io/kv';
import type { FrameAnalytics } from '../pipeline/frame.ts';
import type { AnalyticsResume } from '../nodes/analytics/analytics.ts';

export interface SavedTotals extends Required<AnalyticsResume> {
  readonly worker: string;
  readonly savedAtMs: number;
}

/** The totals of a frame's analytics, as saved. */
export function totalsOf(analytics: FrameAnalytics, worker: string, nowMs: number): SavedTotals {
  return {
    lines: Object.fromEntries(analytics.lines.map((l) => [l.name, { in: { ...l.in }, out: { ...l.out } }])),
    zones: Object.fromEntries(analytics.zones.map((z) => [z.name, { entered: { ...z.entered } }])),
    unique: { ...analytics.unique },
    worker,
    savedAtMs: nowMs,
  };
}

const WRITE_TIMEOUT_MS = 1000;

const isConflict = (error: unknown): boolean => /wrong last sequence|key exists/i.test(String((error as Error)?.message ?? error));

/** One stream's saved totals, owned by this worker from {@link StreamState.take} on. */
export class StreamState {
  private revision = 0;
  private fencedOut = false;
  private pending: SavedTotals | undefined;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly kv: KV,
    readonly stream: string,
    private readonly worker: string,
    /** What the stream continues from; undefined the first time it runs. */
    readonly saved: SavedTotals | undefined,
  ) {}

  /**
   * Reads the stream's totals and makes the key this worker's (see the fencing above). Tried a
   * few times: a write of the previous holder may land in between, and then its newer totals
   * are the ones to continue from.
   */
  static async take(kv: KV, stream: string, worker: string): Promise<StreamState> {
    for (let attempt = 0; ; attempt++) {
      const entry = await kv.get(stream);
      const saved = entry?.operation === 'PUT' ? parseTotals(entry.string()) : undefined;
      const state = new StreamState(kv, stream, worker, saved);
      try {
        const text = JSON.stringify({ ...(saved ?? { lines: {}, zones: {}, unique: {} }), worker, savedAtMs: Date.now() });
        state.revision = entry && entry.operation === 'PUT' ? await kv.update(stream, text, entry.revision) : await kv.create(stream, text);
        return state;
      } catch (error) {
        if (!isConflict(error) || attempt >= 4) throw error;
      }
    }
  }

  /** Remembers the newest totals; {@link flush} writes them. */
  offer(totals: SavedTotals): void {
    this.pending = totals;
  }

  /** Writes the newest totals, if any came since the last write. False once another worker owns the key. */
  flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      const totals = this.pending;
      if (!totals || this.fencedOut) return;
      this.pending = undefined;
      try {
        // Bounded: a write stuck on a NATS outage must not hold back the next second's totals.
        this.revision = await this.kv.update(this.stream, JSON.stringify(totals), this.revision, WRITE_TIMEOUT_MS);
      } catch (error) {
        if (!isConflict(error)) {
          // NATS away: keep the totals for the next flush.
          this.pending ??= totals;
          return;
        }
        const entry = await this.kv.get(this.stream).catch(() => null);
        const owner = entry?.operation === 'PUT' ? parseTotals(entry.string())?.worker : undefined;
        if (entry && owner === this.worker) {
          this.revision = entry.revision;
          this.pending ??= totals;
        } else this.fencedOut = true;
      }
    });
    return this.writing;
  }

  get ownsKey(): boolean {
    return !this.fencedOut;
  }
}

function parseTotals(text: string): SavedTotals | undefined {
  if (text === '') return undefined;
  try {
    const value = JSON.parse(text) as Partial<SavedTotals>;
    return { lines: value.lines ?? {}, zones: value.zones ?? {}, unique: value.unique ?? {}, worker: value.worker ?? '', savedAtMs: value.savedAtMs ?? 0 };
  } catch {
    return undefined;
  }
}
