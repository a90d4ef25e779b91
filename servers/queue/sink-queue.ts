/**
 * The one outgoing queue every sink puts between the pipeline and its consumer (a WebSocket
 * client, a file, ffmpeg's stdin), so that `Sink.write` never waits on the consumer and a slow
 * consumer never grows the server's memory without bound.
 *
 * Two lanes, the lossless one first:
 * - **lossless** ({@link SinkQueue.push}): events, counts, statuses, file lines. Never dropped.
 *   Past `maxQueuedBytes` of them the queue's `overflow` policy acts:
 *   - `cut`: the consumer is cut off (`onCut` closes its socket with the reason) and what waited
 *     for it is freed. For network clients: one client never holds the others or the server
 *     hostage, and it is told why, so nothing is lost silently.
 *   - `backpressure`: everything is kept, and {@link SinkQueue.backpressure} gives the producer
 *     a promise to wait on until the queue is back under its bound. For files, which are the
 *     record: the sink hands that promise on from `Sink.backpressure`, the graph holds the packet's buffers
 *     until it settles, and so a lossless source waits and a live one drops at its flow limiter
 *     (counted there). Memory stays under the bound plus the frames the pipeline has in flight.
 * - **newest-wins** ({@link SinkQueue.offerLatest}): frames. One slot per key; a newer message
 *   replaces the one still waiting, and each replaced one is counted and reported (`onDrop`).
 *
 * Bytes are counted as bytes (`byteLength`, see byte-length.ts). At most `inFlightBytes` are
 * handed to the consumer and not yet taken by it (`transmit`'s `taken`); the rest waits here,
 * where the policy can still act on it. An error from the consumer (`taken(error)`, or a throw
 * from `transmit`) is counted and cuts the queue with the error as the reason: never an
 * unhandled error, never a queue that keeps growing for a consumer that is gone.
 */

/** Called by the consumer once it has taken a message (written to the kernel or the file). */
export type Taken = (error?: Error | null) => void;

export type OverflowPolicy = 'cut' | 'backpressure';

/** Why a queue was cut: too much waited (`overflow`), the consumer failed (`error`), or its owner said so. */
export type CutCause = 'overflow' | 'error' | 'owner';

export interface SinkQueueOptions<M> {
  /** Hands `message` to the consumer; `taken` must be called once, when it has it or has failed. */
  readonly transmit: (message: M, taken: Taken) => void;
  /** The message's size in bytes (see byte-length.ts). */
  readonly byteLength: (message: M) => number;
  /** Bytes handed to the consumer and not yet taken, above which nothing more is handed over. */
  readonly inFlightBytes: number;
  /** Bytes of lossless messages waiting here, past which `overflow` acts. */
  readonly maxQueuedBytes: number;
  readonly overflow: OverflowPolicy;
  /** A newest-wins message of `key` was replaced before it could be sent. */
  readonly onDrop?: (key: string) => void;
  /** The queue was cut (too slow, or the consumer failed); the owner closes the consumer. */
  readonly onCut?: (reason: string, cause: CutCause) => void;
  /** Whether the consumer can take messages now (a socket that is open); always, if left out. */
  readonly canTransmit?: () => boolean;
  /** The clock for {@link SinkQueue.stalledMs}; `Date.now` if left out. */
  readonly now?: () => number;
}

/** What a queue holds and has lost, for stats and tests. */
export interface QueueBacklog {
  /** Bytes waiting in the queue (both lanes), not yet handed to the consumer. */
  readonly queuedBytes: number;
  /** Of those, bytes of lossless messages: what `maxQueuedBytes` bounds. */
  readonly losslessBytes: number;
  /** Bytes handed to the consumer and not yet taken by it. */
  readonly inFlightBytes: number;
  /** Newest-wins messages replaced before they were sent. */
  readonly dropped: number;
  /** Errors the consumer reported. */
  readonly errors: number;
}

export class SinkQueue<M> {
  private readonly lossless: { message: M; bytes: number }[] = [];
  private losslessHead = 0;
  private readonly latest = new Map<string, { message: M; bytes: number }>();
  /** Bytes waiting in both lanes. */
  private queued = 0;
  /** Bytes waiting in the lossless lane: what `maxQueuedBytes` bounds (the other lane holds one message per key). */
  private losslessQueued = 0;
  private inFlight = 0;
  private inFlightCount = 0;
  private droppedCount = 0;
  private errorCount = 0;
  private lastProgressMs: number;
  private cutReason: string | undefined;
  private closed = false;
  private pumping = false;
  private pumpAgain = false;
  private readonly underBound = new Set<() => void>();
  private readonly emptied = new Set<() => void>();

  constructor(private readonly options: SinkQueueOptions<M>) {
    if (!(options.inFlightBytes > 0) || !(options.maxQueuedBytes > 0)) {
      throw new RangeError(`a sink queue needs positive byte limits, got inFlightBytes ${options.inFlightBytes} and maxQueuedBytes ${options.maxQueuedBytes}`);
    }
    this.lastProgressMs = this.now();
  }

  /** A message that must arrive, in order. False when the queue is cut or closed and it was not taken. */
  push(message: M): boolean {
    if (this.closed) return false;
    this.startWaitingClock();
    const bytes = this.options.byteLength(message);
    this.lossless.push({ message, bytes });
    this.queued += bytes;
    this.losslessQueued += bytes;
    this.pump();
    if (this.options.overflow === 'cut' && this.losslessQueued > this.options.maxQueuedBytes) {
      this.cut(`too slow: more than ${this.options.maxQueuedBytes} bytes waiting`, 'overflow');
    }
    return true;
  }

  /** A frame: replaces the message of the same `key` still waiting (counted as a drop). */
  offerLatest(key: string, message: M): void {
    if (this.closed) return;
    this.startWaitingClock();
    const replaced = this.latest.get(key);
    if (replaced) {
      this.queued -= replaced.bytes;
      this.droppedCount++;
      this.options.onDrop?.(key);
    }
    const bytes = this.options.byteLength(message);
    this.latest.set(key, { message, bytes });
    this.queued += bytes;
    this.pump();
  }

  /** Forgets the waiting newest-wins messages whose key `unwanted` accepts (not counted as drops). */
  discardLatest(unwanted: (key: string) => boolean): void {
    for (const [key, entry] of this.latest) {
      if (!unwanted(key)) continue;
      this.latest.delete(key);
      this.queued -= entry.bytes;
    }
    this.settleWaiters();
  }

  /** Whether a newest-wins message of `key` is waiting. */
  hasLatest(key: string): boolean {
    return this.latest.has(key);
  }

  /** Hands over what the consumer can take now; call it when `canTransmit` becomes true. */
  pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        while (!this.closed && this.inFlight < this.options.inFlightBytes && (this.options.canTransmit?.() ?? true)) {
          const next = this.takeNext();
          if (!next) break;
          this.transmit(next.message, next.bytes);
        }
      } while (this.pumpAgain && !this.closed);
    } finally {
      this.pumping = false;
    }
    this.settleWaiters();
  }

  /**
   * A promise that settles once the lossless lane is back under `maxQueuedBytes` (or the queue
   * is cut or closed); undefined when it is under already. What a `backpressure` sink returns
   * from `write`.
   */
  backpressure(): Promise<void> | undefined {
    if (this.closed || this.losslessQueued <= this.options.maxQueuedBytes) return undefined;
    return new Promise((resolve) => this.underBound.add(resolve));
  }

  /** Settles once everything queued has been taken by the consumer, or the queue is cut or closed. */
  drained(): Promise<void> {
    if (this.closed || this.isEmpty) return Promise.resolve();
    return new Promise((resolve) => this.emptied.add(resolve));
  }

  /**
   * How long data has waited without the consumer taking anything, in ms; 0 when nothing waits.
   * A consumer stalled past a limit can then be cut (the viewer's `stuckTimeoutMs`).
   */
  stalledMs(nowMs = this.now()): number {
    return this.isEmpty ? 0 : Math.max(0, nowMs - this.lastProgressMs);
  }

  /** Stops for good, frees what waits, and tells the owner why (`onCut`). Idempotent. */
  cut(reason: string, cause: CutCause = 'owner'): void {
    if (this.closed) return;
    this.cutReason = reason;
    this.close();
    this.options.onCut?.(reason, cause);
  }

  /** Stops for good and frees what waits (the consumer went away, or the sink is closing). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.lossless.length = 0;
    this.losslessHead = 0;
    this.latest.clear();
    this.queued = 0;
    this.losslessQueued = 0;
    this.settleWaiters();
  }

  /** Why the queue was cut, if it was. */
  get cutBecause(): string | undefined {
    return this.cutReason;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get backlog(): QueueBacklog {
    return { queuedBytes: this.queued, losslessBytes: this.losslessQueued, inFlightBytes: this.inFlight, dropped: this.droppedCount, errors: this.errorCount };
  }

  /** Messages waiting or handed over and not yet taken. */
  get pendingMessages(): number {
    return this.lossless.length - this.losslessHead + this.latest.size + this.inFlightCount;
  }

  private get isEmpty(): boolean {
    return this.pendingMessages === 0;
  }

  /** A consumer idle because there was nothing to send is not stalled: the clock starts now. */
  private startWaitingClock(): void {
    if (this.isEmpty) this.lastProgressMs = this.now();
  }

  private takeNext(): { message: M; bytes: number } | undefined {
    if (this.losslessHead < this.lossless.length) {
      const entry = this.lossless[this.losslessHead]!;
      this.losslessHead++;
      // Compact now and then rather than shift() each time (O(n) per message on a long queue).
      if (this.losslessHead === this.lossless.length) {
        this.lossless.length = 0;
        this.losslessHead = 0;
      } else if (this.losslessHead > 1024 && this.losslessHead * 2 > this.lossless.length) {
        this.lossless.splice(0, this.losslessHead);
        this.losslessHead = 0;
      }
      this.queued -= entry.bytes;
      this.losslessQueued -= entry.bytes;
      return entry;
    }
    const first = this.latest.entries().next();
    if (first.done) return undefined;
    const [key, entry] = first.value;
    this.latest.delete(key);
    this.queued -= entry.bytes;
    return entry;
  }

  private transmit(message: M, bytes: number): void {
    this.inFlight += bytes;
    this.inFlightCount++;
    let settled = false;
    const taken: Taken = (error) => {
      if (settled) return;
      settled = true;
      this.inFlight -= bytes;
      this.inFlightCount--;
      this.lastProgressMs = this.now();
      if (error) this.fail(error);
      else this.pump();
    };
    try {
      this.options.transmit(message, taken);
    } catch (error) {
      taken(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** The consumer failed (in a transmit, or on its own, like a stream's 'error'): counted, and the queue is cut. */
  fail(error: Error): void {
    // Writes in flight when the consumer failed all report it: one failure, counted once.
    if (this.cutReason !== undefined) return;
    this.errorCount++;
    this.cut(`cannot send: ${error.message}`, 'error');
    this.settleWaiters();
  }

  private settleWaiters(): void {
    if (this.underBound.size > 0 && (this.closed || this.losslessQueued <= this.options.maxQueuedBytes)) {
      const waiters = [...this.underBound];
      this.underBound.clear();
      for (const resolve of waiters) resolve();
    }
    if (this.emptied.size > 0 && (this.closed || this.isEmpty)) {
      const waiters = [...this.emptied];
      this.emptied.clear();
      for (const resolve of waiters) resolve();
    }
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}

/** The backlogs of several queues added up (a sink with one queue per client or per file). */
/** The first wait any of `writers` asks for (a disk that is behind), or undefined when none does. */
export function firstBackpressure(writers: Iterable<{ backpressure(): Promise<void> | undefined }>): Promise<void> | undefined {
  for (const writer of writers) {
    const wait = writer.backpressure();
    if (wait) return wait;
  }
  return undefined;
}

export function totalBacklog(queues: Iterable<{ readonly backlog: QueueBacklog }>): QueueBacklog {
  let queuedBytes = 0;
  let losslessBytes = 0;
  let inFlightBytes = 0;
  let dropped = 0;
  let errors = 0;
  for (const { backlog } of queues) {
    queuedBytes += backlog.queuedBytes;
    losslessBytes += backlog.losslessBytes;
    inFlightBytes += backlog.inFlightBytes;
    dropped += backlog.dropped;
    errors += backlog.errors;
  }
  return { queuedBytes, losslessBytes, inFlightBytes, dropped, errors };
}
