/**
 * Line and zone events to JetStream, none lost: each goes through the sinks' lossless queue
 * (servers/queue/sink-queue.ts) and counts as taken only once JetStream has acknowledged it. A
 * publish that fails (the server is restarting, the ack timed out) is tried again, with the same
 * message id, so JetStream's duplicate window keeps it from being stored twice. While NATS is
 * away the events wait, up to the queue's bound; past it the sink's `backpressure` makes the
 * pipeline wait (a live source then drops frames at its flow limiter, counted there) rather
 * than lose an event or grow without bound. The publisher may be opened before NATS is reached
 * (a server not up yet at start): events wait the same way until {@link EventPublisher.connect}.
 */
import { BROKER_CLOSE_GRACE_MS, drainedWithin } from '../../../servers/queue/close-grace.ts';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../../../pipeline/log.ts';
import { byteLengthOf } from '../../../servers/queue/byte-length.ts';
import { SinkQueue, type QueueBacklog } from '../../../servers/queue/sink-queue.ts';

interface Outgoing {
  readonly subject: string;
  readonly payload: string;
  readonly msgID: string;
  readonly onStored?: () => void;
}

const RETRY_MS = 500;
const IN_FLIGHT_BYTES = 256 * 1024;
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

export interface EventPublisher {
  /** Queues an event; `onStored` is called once JetStream has acknowledged it (never, if it is not). */
  publish(subject: string, payload: string, msgID: string, onStored?: () => void): void;
  /** NATS is reached (its events stream made sure of): what waited is sent. */
  connect(nc: NatsConnection): void;
  backpressure(): Promise<void> | undefined;
  readonly backlog: QueueBacklog;
  /** Waits (a bounded time) for what is queued to be acknowledged, then stops. */
  close(): Promise<void>;
}

export async function openEventPublisher(nc: NatsConnection | undefined, log: Logger): Promise<EventPublisher> {
  const { jetstream } = await import('@nats-io/jetstream');
  let js = nc ? jetstream(nc) : undefined;
  let closed = false;
  let warned = false;
  const queue = new SinkQueue<Outgoing>({
    byteLength: (m) => byteLengthOf(m.payload),
    inFlightBytes: IN_FLIGHT_BYTES,
    maxQueuedBytes: MAX_QUEUED_BYTES,
    overflow: 'backpressure',
    canTransmit: () => js !== undefined,
    transmit: (message, taken) => {
      const attempt = () => {
        js!.publish(message.subject, message.payload, { msgID: message.msgID }).then(
          () => {
            if (warned) log.info('nats: events acknowledged again');
            warned = false;
            message.onStored?.();
            taken();
          },
          (error: Error) => {
            if (closed) return taken(error);
            if (!warned) log.warn(`nats: an event was not acknowledged (${error.message}); retrying until it is`);
            warned = true;
            setTimeout(attempt, RETRY_MS).unref();
          },
        );
      };
      attempt();
    },
  });
  return {
    publish: (subject, payload, msgID, onStored) => void queue.push({ subject, payload, msgID, ...(onStored ? { onStored } : {}) }),
    connect(connected) {
      js = jetstream(connected);
      queue.pump();
    },
    backpressure: () => queue.backpressure(),
    get backlog() {
      return queue.backlog;
    },
    async close() {
      await drainedWithin(queue, BROKER_CLOSE_GRACE_MS);
      if (queue.pendingMessages > 0) log.warn(`nats: stopping with ${queue.pendingMessages} events not acknowledged`);
      closed = true;
      queue.close();
    },
  };
}
