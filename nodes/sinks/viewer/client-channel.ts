import { WebSocket } from 'ws';
import { ALL_STREAMS, type ServerEvent, type Topic } from './protocol.ts';

export interface ChannelLimits {
  /** Bytes handed to the socket and not yet written out, above which nothing more is sent. */
  readonly inFlightBytes: number;
  /** Queued never-dropped messages beyond which the client is disconnected. */
  readonly maxQueuedBytes: number;
  /** How long a client may make no progress while data waits for it. */
  readonly stuckTimeoutMs: number;
}

/** Close code for a client that cannot keep up (in the 4000s: the application's own). */
export const TOO_SLOW = 4008;

/**
 * One client's view of the server: what it subscribed to, and its own queues, so that nothing
 * done for one client ever waits on it.
 *
 * - Frame topics (`video`, `frames`) keep only the newest waiting message per stream: a newer
 *   frame replaces it, and the replaced one is counted as dropped.
 * - Everything else is queued in order and never dropped; a client whose queue passes
 *   `maxQueuedBytes`, or that makes no progress for `stuckTimeoutMs`, is disconnected.
 *
 * Progress is measured by the socket itself: a message counts as gone when `ws` reports it
 * written to the kernel, and no more than `inFlightBytes` are outstanding at once.
 */
export class ClientChannel {
  private readonly subscriptions = new Map<Topic, Set<string>>();
  private readonly queue: (string | Buffer)[] = [];
  private queuedBytes = 0;
  private readonly newestFrame = new Map<string, Buffer>();
  private inFlight = 0;
  private lastProgressMs = Date.now();
  private closed = false;
  readonly dropped: Partial<Record<Topic, number>> = {};

  constructor(
    readonly socket: WebSocket,
    private readonly limits: ChannelLimits,
    private readonly onDrop: (stream: string, topic: Topic) => void,
  ) {
    socket.once('close', () => (this.closed = true));
  }

  wants(stream: string, topic: Topic): boolean {
    const streams = this.subscriptions.get(topic);
    return !!streams && (streams.has(ALL_STREAMS) || streams.has(stream));
  }

  subscribe(streams: readonly string[], topics: readonly Topic[]): void {
    for (const topic of topics) {
      const set = this.subscriptions.get(topic) ?? new Set<string>();
      streams.forEach((s) => set.add(s));
      this.subscriptions.set(topic, set);
    }
  }

  unsubscribe(streams: readonly string[], topics: readonly Topic[]): void {
    for (const topic of topics) {
      const set = this.subscriptions.get(topic);
      if (!set) continue;
      if (streams.includes(ALL_STREAMS)) set.clear();
      else streams.forEach((s) => set.delete(s));
      if (set.size === 0) this.subscriptions.delete(topic);
      // Frames waiting for a topic the client no longer wants are not sent.
      for (const key of this.newestFrame.keys()) {
        const [t, s] = splitKey(key);
        if (t === topic && !this.wants(s, t)) this.newestFrame.delete(key);
      }
    }
  }

  subscriptionList(): { stream: string; topic: Topic }[] {
    return [...this.subscriptions].flatMap(([topic, streams]) => [...streams].map((stream) => ({ stream, topic })));
  }

  /** A message that must arrive: queued in order. */
  send(event: ServerEvent | string): void {
    if (this.closed) return;
    const text = typeof event === 'string' ? event : JSON.stringify(event);
    this.queue.push(text);
    this.queuedBytes += text.length;
    if (this.queuedBytes > this.limits.maxQueuedBytes) {
      this.disconnect(`too slow: more than ${this.limits.maxQueuedBytes} bytes of events waiting`);
      return;
    }
    this.pump();
  }

  /** A frame message: replaces the one of the same stream and topic still waiting, if any. */
  offerFrame(stream: string, topic: Topic, message: Buffer): void {
    if (this.closed || !this.wants(stream, topic)) return;
    const key = `${topic}\u0000${stream}`;
    if (this.newestFrame.has(key)) {
      this.dropped[topic] = (this.dropped[topic] ?? 0) + 1;
      this.onDrop(stream, topic);
    }
    this.newestFrame.set(key, message);
    this.pump();
  }

  get waitingBytes(): number {
    let bytes = this.queuedBytes;
    for (const m of this.newestFrame.values()) bytes += m.length;
    return bytes;
  }

  /** Disconnects the client if data has waited for it, without progress, for too long. */
  checkStuck(nowMs: number): void {
    const waiting = this.inFlight > 0 || this.queue.length > 0;
    if (waiting && nowMs - this.lastProgressMs > this.limits.stuckTimeoutMs) {
      this.disconnect(`too slow: nothing could be sent for ${this.limits.stuckTimeoutMs} ms`);
    }
  }

  private disconnect(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.newestFrame.clear();
    this.socket.close(TOO_SLOW, reason);
    // A client that reads nothing never completes the closing handshake either.
    setTimeout(() => this.socket.terminate(), 1000).unref();
  }

  /** Sends while the socket keeps up: events first, then the newest frames. */
  private pump(): void {
    while (!this.closed && this.socket.readyState === WebSocket.OPEN && this.inFlight < this.limits.inFlightBytes) {
      let message: string | Buffer | undefined = this.queue.shift();
      if (message !== undefined) {
        this.queuedBytes -= message.length;
      } else {
        const next = this.newestFrame.entries().next();
        if (next.done) return;
        this.newestFrame.delete(next.value[0]);
        message = next.value[1];
      }
      const size = message.length;
      this.inFlight += size;
      this.socket.send(message, { binary: typeof message !== 'string' }, () => {
        this.inFlight -= size;
        this.lastProgressMs = Date.now();
        this.pump();
      });
    }
  }
}

function splitKey(key: string): [Topic, string] {
  const at = key.indexOf('\u0000');
  return [key.slice(0, at) as Topic, key.slice(at + 1)];
}
