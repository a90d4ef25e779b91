import { WebSocket } from 'ws';
import { byteLengthOf } from '../queue/byte-length.ts';
import { closeWithGrace } from '../queue/close-grace.ts';
import { SinkQueue, type QueueBacklog } from '../queue/sink-queue.ts';
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

type Outgoing = string | Buffer;

/**
 * One client's view of the server: what it subscribed to, and its own {@link SinkQueue}, so
 * that nothing done for one client ever waits on it.
 *
 * - Frame topics (`video`, `frames`) are newest-wins per stream: a newer frame replaces the one
 *   still waiting, and the replaced one is counted as dropped.
 * - Everything else is lossless, in order; a client whose queue passes `maxQueuedBytes`, that
 *   makes no progress for `stuckTimeoutMs`, or whose socket fails, is disconnected with the
 *   reason (the queue's `cut` policy): it knows it lost messages, nobody else waits for it.
 *
 * Progress is measured by the socket itself: a message counts as gone when `ws` reports it
 * written to the kernel, and no more than `inFlightBytes` are outstanding at once.
 */
export class ClientChannel {
  private readonly subscriptions = new Map<Topic, Set<string>>();
  private readonly queue: SinkQueue<Outgoing>;
  readonly dropped: Partial<Record<Topic, number>> = {};

  constructor(
    readonly socket: WebSocket,
    private readonly limits: ChannelLimits,
    private readonly onDrop: (stream: string, topic: Topic) => void,
    private readonly onCut: (reason: string) => void = () => undefined,
  ) {
    this.queue = new SinkQueue<Outgoing>({
      transmit: (message, taken) => socket.send(message, { binary: typeof message !== 'string' }, taken),
      byteLength: byteLengthOf,
      inFlightBytes: limits.inFlightBytes,
      maxQueuedBytes: limits.maxQueuedBytes,
      overflow: 'cut',
      canTransmit: () => socket.readyState === WebSocket.OPEN,
      onDrop: (key) => {
        const [topic, stream] = splitKey(key);
        this.dropped[topic] = (this.dropped[topic] ?? 0) + 1;
        this.onDrop(stream, topic);
      },
      onCut: (reason) => {
        this.onCut(reason);
        void closeWithGrace(socket, TOO_SLOW, reason.slice(0, 120));
      },
    });
    socket.once('close', () => this.queue.close());
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
    }
    // Frames waiting for a topic the client no longer wants are not sent.
    this.queue.discardLatest((key) => {
      const [topic, stream] = splitKey(key);
      return !this.wants(stream, topic);
    });
  }

  subscriptionList(): { stream: string; topic: Topic }[] {
    return [...this.subscriptions].flatMap(([topic, streams]) => [...streams].map((stream) => ({ stream, topic })));
  }

  /** A message that must arrive: queued in order. */
  send(event: ServerEvent | string): void {
    this.queue.push(typeof event === 'string' ? event : JSON.stringify(event));
  }

  /** A frame message: replaces the one of the same stream and topic still waiting, if any. */
  offerFrame(stream: string, topic: Topic, message: Buffer): void {
    if (!this.wants(stream, topic)) return;
    this.queue.offerLatest(`${topic}\u0000${stream}`, message);
  }

  /** Bytes waiting in this client's queue (not yet handed to the socket). */
  get waitingBytes(): number {
    return this.queue.backlog.queuedBytes;
  }

  get backlog(): QueueBacklog {
    return this.queue.backlog;
  }

  /** Disconnects the client if data has waited for it, without progress, for too long. */
  checkStuck(nowMs: number): void {
    if (this.queue.stalledMs(nowMs) > this.limits.stuckTimeoutMs) {
      this.queue.cut(`too slow: nothing could be sent for ${this.limits.stuckTimeoutMs} ms`);
    }
  }
}

function splitKey(key: string): [Topic, string] {
  const at = key.indexOf('\u0000');
  return [key.slice(0, at) as Topic, key.slice(at + 1)];
}
