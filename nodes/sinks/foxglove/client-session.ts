/**
 * One connected Foxglove client: its subscriptions, and what it is sent.
 *
 * Sending only queues bytes on the socket; the sink decides from {@link ClientSession.bufferedBytes}
 * what a slow client skips, so nothing here ever waits for a client.
 */
import { WebSocket } from 'ws';
import { messageDataHeader, parseClientRequest, StatusLevel, type ClientRequest, type ServerMessage } from './foxglove-wire.ts';

/** The id of the status shown while a client skips images, so it can be taken back. */
const SKIPPING_STATUS_ID = 'panoptes.send-buffer';
/** How long a client asked to close may take before it is cut off (a stuck client never answers). */
const CLOSE_GRACE_MS = 1000;

export class ClientSession {
  /** Channel id to the client's subscription id for it. */
  private readonly subscriptionByChannel = new Map<number, number>();
  private readonly channelBySubscription = new Map<number, number>();
  private skippingImages = false;

  constructor(
    private readonly socket: WebSocket,
    /** Whether a channel id is advertised. */
    private readonly channelExists: (channelId: number) => boolean,
  ) {}

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Bytes queued for this client and not yet handed to the network. */
  get bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  /** The client's subscription id for `channelId`, when it is open and subscribed. */
  subscriptionFor(channelId: number): number | undefined {
    return this.isOpen ? this.subscriptionByChannel.get(channelId) : undefined;
  }

  send(message: ServerMessage): void {
    if (this.isOpen) this.socket.send(JSON.stringify(message));
  }

  /**
   * Sends one `messageData`: the 13-byte header of this subscription, then `payload` as the
   * second fragment of the same WebSocket message, so every client is sent the same payload
   * bytes without a copy.
   */
  sendMessageData(subscriptionId: number, timestampNs: bigint, payload: Buffer): void {
    this.socket.send(messageDataHeader(subscriptionId, timestampNs), { binary: true, fin: false });
    this.socket.send(payload, { binary: true, fin: true });
  }

  /** Tells the client, once per episode, that it is too slow to be sent every image. */
  setSkippingImages(skipping: boolean): void {
    if (skipping === this.skippingImages) return;
    this.skippingImages = skipping;
    if (skipping) {
      // Foxglove's app recognises this wording from ros-foxglove-bridge and shows a tip.
      this.send({ op: 'status', level: StatusLevel.warning, message: 'Send buffer limit reached: skipping images until the connection catches up', id: SKIPPING_STATUS_ID });
    } else {
      this.send({ op: 'removeStatus', statusIds: [SKIPPING_STATUS_ID] });
    }
  }

  /** Handles a text message from the client; anything wrong is answered with an error status. */
  receiveText(text: string): void {
    const parsed = parseClientRequest(text);
    if (!parsed.ok) {
      this.status(StatusLevel.error, parsed.reason);
      return;
    }
    this.apply(parsed.request);
  }

  receiveBinary(): void {
    this.status(StatusLevel.error, 'binary messages (client publish, service calls) are not supported by this server');
  }

  /** Closes with a reason, and cuts the connection if the close handshake cannot get through. */
  disconnect(code: number, reason: string): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    this.socket.close(code, reason);
    setTimeout(() => this.socket.terminate(), CLOSE_GRACE_MS).unref();
  }

  /** A promise for the socket being closed, for a clean shutdown. */
  closed(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => this.socket.once('close', () => resolve()));
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
    } else if (!this.channelExists(channelId)) {
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
  }

  private status(level: StatusLevel, message: string): void {
    this.send({ op: 'status', level, message });
  }
}
