/**
 * One connected Foxglove client: its subscriptions, and its own outgoing {@link SinkQueue}, so
 * nothing here ever waits for a client:
 * - images are newest-wins per channel: while the socket holds `inFlightBytes` not yet written
 *   out, a newer image replaces the one waiting (counted through `onImageDropped`, and the client
 *   is told with a status that it is skipping images);
 * - annotations, counts and statuses are lossless, in order; a client with more than
 *   `maxQueuedBytes` of them waiting, or whose socket fails, is cut off (`onCut`).
 */
import { WebSocket } from 'ws';
import { closeWithGrace } from '../../../servers/queue/close-grace.ts';
import { SinkQueue, type CutCause, type QueueBacklog } from '../../../servers/queue/sink-queue.ts';
import { messageDataHeader, parseClientRequest, StatusLevel, type ClientRequest, type ServerMessage } from './foxglove-wire.ts';

/** Close code for a client disconnected for falling too far behind (policy violation). */
const CLOSE_TOO_SLOW = 1008;
/** Close code for a client whose socket failed. */
const CLOSE_INTERNAL_ERROR = 1011;
/** The id of the status shown while a client skips images, so it can be taken back. */
const SKIPPING_STATUS_ID = 'panoptes.send-buffer';
/**
 * Statuses one request may cause: a 64 KiB subscribe to unknown channels would otherwise be
 * answered by thousands of them. The rest is summed up in one more.
 */
export const MAX_STATUSES_PER_REQUEST = 10;
/**
 * Statuses a client's requests may cause per second, over all its requests (a burst of as many
 * is allowed): a client that sends thousands of bad messages and reads nothing must not make
 * the server queue thousands of answers. What is held back is summed up in one status a
 * second later.
 */
export const MAX_STATUSES_PER_SECOND = 20;
const STATUS_WINDOW_MS = 1000;

/** One WebSocket message: JSON text, or a `messageData` header and its (shared) payload. */
type Outgoing = string | { readonly header: Buffer; readonly payload: Buffer };

export interface SessionLimits {
  /** Bytes handed to the socket and not yet written out, above which images wait (and get replaced). */
  readonly inFlightBytes: number;
  /** Bytes of annotations, counts and statuses waiting, past which the client is cut off. */
  readonly maxQueuedBytes: number;
}

export interface SessionHooks {
  /** Whether a channel id is advertised. */
  readonly channelExists: (channelId: number) => boolean;
  /** An image of `channelId` was replaced by a newer one before it could be sent. */
  readonly onImageDropped: (channelId: number) => void;
  /** The session's queue was cut; the session closes the socket after this. */
  readonly onCut: (reason: string, cause: CutCause) => void;
}

export class ClientSession {
  /** Channel id to the client's subscription id for it. */
  private readonly subscriptionByChannel = new Map<number, number>();
  private readonly channelBySubscription = new Map<number, number>();
  private readonly queue: SinkQueue<Outgoing>;
  private skippingImages = false;
  /** Statuses left for the request being handled (see {@link MAX_STATUSES_PER_REQUEST}). */
  private statusesLeft = Infinity;
  private statusesWithheld = 0;
  /** Status replies sent in the current one-second window (see {@link MAX_STATUSES_PER_SECOND}). */
  private windowStartMs = -Infinity;
  private statusesInWindow = 0;
  private repliesWithheld = 0;
  private withheldSummary: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: WebSocket,
    limits: SessionLimits,
    private readonly hooks: SessionHooks,
  ) {
    this.queue = new SinkQueue<Outgoing>({
      transmit: (message, taken) => {
        if (typeof message === 'string') {
          socket.send(message, taken);
          return;
        }
        // The 13-byte header of this subscription, then the payload as the second fragment of
        // the same WebSocket message: every client is sent the same payload bytes without a copy.
        socket.send(message.header, { binary: true, fin: false });
        socket.send(message.payload, { binary: true, fin: true }, taken);
      },
      byteLength: (message) => (typeof message === 'string' ? Buffer.byteLength(message) : message.header.length + message.payload.length),
      inFlightBytes: limits.inFlightBytes,
      maxQueuedBytes: limits.maxQueuedBytes,
      overflow: 'cut',
      canTransmit: () => socket.readyState === WebSocket.OPEN,
      onDrop: (key) => {
        this.setSkippingImages(true);
        this.hooks.onImageDropped(Number(key));
      },
      onCut: (reason, cause) => {
        this.hooks.onCut(reason, cause);
        void closeWithGrace(socket, cause === 'overflow' ? CLOSE_TOO_SLOW : CLOSE_INTERNAL_ERROR, cause === 'overflow' ? 'Send buffer limit reached' : reason.slice(0, 120));
      },
    });
    socket.once('close', () => {
      this.queue.close();
      clearTimeout(this.withheldSummary);
    });
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** What waits for this client, and what it lost. */
  get backlog(): QueueBacklog {
    return this.queue.backlog;
  }

  /** The client's subscription id for `channelId`, when it is open and subscribed. */
  subscriptionFor(channelId: number): number | undefined {
    return this.isOpen ? this.subscriptionByChannel.get(channelId) : undefined;
  }

  send(message: ServerMessage): void {
    this.queue.push(JSON.stringify(message));
  }

  /** One `messageData` that must arrive (annotations, counts). */
  sendMessageData(subscriptionId: number, timestampNs: bigint, payload: Buffer): void {
    this.queue.push({ header: messageDataHeader(subscriptionId, timestampNs), payload });
  }

  /** One image: replaces the image of the same channel still waiting for this client. */
  offerImage(channelId: number, subscriptionId: number, timestampNs: bigint, payload: Buffer): void {
    const key = String(channelId);
    const replacing = this.queue.hasLatest(key);
    this.queue.offerLatest(key, { header: messageDataHeader(subscriptionId, timestampNs), payload });
    // An image that went out at once means the connection keeps up again.
    if (!replacing && !this.queue.hasLatest(key)) this.setSkippingImages(false);
  }

  /** Handles a text message from the client; anything wrong is answered with an error status. */
  receiveText(text: string): void {
    const parsed = parseClientRequest(text);
    if (!parsed.ok) {
      this.status(StatusLevel.error, parsed.reason);
      return;
    }
    this.statusesLeft = MAX_STATUSES_PER_REQUEST;
    this.statusesWithheld = 0;
    try {
      this.apply(parsed.request);
    } finally {
      this.statusesLeft = Infinity;
      if (this.statusesWithheld > 0) {
        this.reply(StatusLevel.warning, `${this.statusesWithheld} more problems with this ${parsed.request.op} request; not listed`);
      }
    }
  }

  receiveBinary(): void {
    this.status(StatusLevel.error, 'binary messages (client publish, service calls) are not supported by this server');
  }

  /** Disconnects the client if data has waited for it, without progress, for longer than `limitMs`. */
  checkStuck(limitMs: number, nowMs = Date.now()): void {
    if (this.queue.stalledMs(nowMs) > limitMs) this.queue.cut(`too slow: nothing could be sent for ${limitMs} ms`, 'overflow');
  }

  /** Closes with a reason, and cuts the connection if the close handshake cannot get through. */
  disconnect(code: number, reason: string): Promise<void> {
    this.queue.close();
    return closeWithGrace(this.socket, code, reason);
  }

  /** Tells the client, once per episode, that it is too slow to be sent every image. */
  private setSkippingImages(skipping: boolean): void {
    if (skipping === this.skippingImages) return;
    this.skippingImages = skipping;
    if (skipping) {
      // Foxglove's app recognises this wording from ros-foxglove-bridge and shows a tip.
      this.send({ op: 'status', level: StatusLevel.warning, message: 'Send buffer limit reached: skipping images until the connection catches up', id: SKIPPING_STATUS_ID });
    } else {
      this.send({ op: 'removeStatus', statusIds: [SKIPPING_STATUS_ID] });
    }
  }

  private apply(request: ClientRequest): void {
    if (request.op === 'subscribe') {
      for (const { id, channelId } of request.subscriptions) this.subscribe(id, channelId);
    } else {
      for (const id of request.subscriptionIds) this.unsubscribe(id);
    }
  }

  // The checks and their levels follow @foxglove/ws-protocol's reference server.
  private subscribe(subscriptionId: number, channelId: number): void {
    if (this.channelBySubscription.has(subscriptionId)) {
      this.status(StatusLevel.error, `subscription id ${subscriptionId} is already used; ignoring subscription`);
    } else if (this.subscriptionByChannel.has(channelId)) {
      this.status(StatusLevel.warning, `already subscribed to channel ${channelId}; ignoring subscription`);
    } else if (!this.hooks.channelExists(channelId)) {
      this.status(StatusLevel.warning, `channel ${channelId} is not available; ignoring subscription`);
    } else {
      this.channelBySubscription.set(subscriptionId, channelId);
      this.subscriptionByChannel.set(channelId, subscriptionId);
    }
  }

  private unsubscribe(subscriptionId: number): void {
    const channelId = this.channelBySubscription.get(subscriptionId);
    if (channelId === undefined) {
      this.status(StatusLevel.warning, `subscription id ${subscriptionId} does not exist; ignoring unsubscription`);
      return;
    }
    this.channelBySubscription.delete(subscriptionId);
    this.subscriptionByChannel.delete(channelId);
    // An image still waiting for the channel is not sent.
    this.queue.discardLatest((key) => key === String(channelId));
  }

  private status(level: StatusLevel, message: string): void {
    if (this.statusesLeft <= 0) {
      this.statusesWithheld++;
      return;
    }
    this.statusesLeft--;
    this.reply(level, message);
  }

  /** A status in answer to the client, within {@link MAX_STATUSES_PER_SECOND}. */
  private reply(level: StatusLevel, message: string): void {
    const now = Date.now();
    if (now - this.windowStartMs >= STATUS_WINDOW_MS) {
      this.windowStartMs = now;
      this.statusesInWindow = 0;
    }
    if (this.statusesInWindow >= MAX_STATUSES_PER_SECOND) {
      this.repliesWithheld++;
      this.withheldSummary ??= setTimeout(() => this.sendWithheldSummary(), this.windowStartMs + STATUS_WINDOW_MS - now);
      this.withheldSummary.unref();
      return;
    }
    this.statusesInWindow++;
    this.send({ op: 'status', level, message });
  }

  private sendWithheldSummary(): void {
    this.withheldSummary = undefined;
    if (this.repliesWithheld === 0 || !this.isOpen) return;
    const withheld = this.repliesWithheld;
    this.repliesWithheld = 0;
    // The summary opens the next second and counts in it, sent in any case: a timer may fire a
    // moment before the second is over, and through reply() the count would be withheld again
    // and lost (the next summary would say 1).
    this.windowStartMs = Date.now();
    this.statusesInWindow = 1;
    this.send({
      op: 'status',
      level: StatusLevel.warning,
      message: `${withheld} more problems with this client's messages in the last second; not listed (at most ${MAX_STATUSES_PER_SECOND} answers a second)`,
    });
  }
}
