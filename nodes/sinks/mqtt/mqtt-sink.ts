import { BROKER_CLOSE_GRACE_MS, drainedWithin } from '../../../servers/queue/close-grace.ts';
import { z } from 'zod';
import type { MqttClient } from 'mqtt';
import type { FramePacket } from '../../../pipeline/frame.ts';
import type { AnalyticsEvent } from '../../../pipeline/analytics-types.ts';
import { defineSink } from '../../../pipeline/node.ts';
import { eventSnapshot } from '../../render/event-snapshot.ts';
import { frameRecord } from '../frame-record.ts';
import { byteLengthOf } from '../../../servers/queue/byte-length.ts';
import { SinkQueue } from '../../../servers/queue/sink-queue.ts';

const mqttOptions = z.object({
  url: z.string().regex(/^(mqtts?|wss?):\/\//, 'a broker URL: mqtt://host:1883').describe('Broker, e.g. mqtt://127.0.0.1:1883'),
  topicPrefix: z.string().min(1).default('panoptes').describe('Topics are <topicPrefix>/<stream>/...'),
  username: z.string().optional(),
  password: z.string().optional(),
  clientId: z.string().optional().describe('Default: panoptes-<random>'),
  qos: z.union([z.literal(0), z.literal(1)]).default(1).describe('1: the broker acknowledges each message'),
  maxQueuedBytes: z.number().int().positive().default(8_000_000).describe('Events waiting for the broker before the pipeline waits for it'),
  snapshots: z
    .boolean()
    .default(true)
    .describe('Publish each event\'s snapshot (JPEG, retained) on <topicPrefix>/<stream>/snapshot/<class>, as Frigate does'),
});

interface Outgoing {
  readonly topic: string;
  readonly payload: string | Buffer;
  readonly retain: boolean;
}

const CONNECT_TIMEOUT_MS = 5000;
const RECONNECT_MS = 1000;
const RETRY_MS = 1000;
const IN_FLIGHT_BYTES = 256 * 1024;

/** MQTT topic levels cannot hold `/`, `+` or `#`: a stream or class name becomes one level. */
const level = (name: string) => name.replace(/[/+#]/g, '_');

/**
 * Publishes to an MQTT broker, for the systems users already run (Home Assistant, Node-RED):
 * - `<prefix>/<stream>/events`: each line crossing and zone entry or exit, JSON, never dropped;
 * - `<prefix>/<stream>/snapshot/<class>`: retained, the JPEG of the latest event of that class
 *   (the object cropped from the overlay with its box, as Frigate's `<camera>/<label>/snapshot`);
 *   its event is the latest on `events` with that class, which names it by `id`;
 * - `<prefix>/<stream>/counts/<class>`: retained, `{"stream","className","count"}`, published when
 *   the count changes, so a dashboard that connects later sees the current value at once;
 * - `<prefix>/<stream>/counts`: retained, every class at once (`{"stream","counts":{...}}`);
 * - `<prefix>/status`: retained `online`, and `offline` (the broker sends it if we vanish).
 *
 * The client connects in the background, at start as after a loss, and reconnects on its own: a
 * broker that is not up yet never holds up the video. While the broker is away (or not there
 * yet), events wait in the sinks' lossless queue (past `maxQueuedBytes` the pipeline waits) and
 * only the newest count per topic is kept; the backlog and the connection are in `/metrics`.
 *
 * ```yaml
 * sinks:
 *   - { type: mqtt, url: mqtt://127.0.0.1:1883, topicPrefix: home/cameras }
 * ```
 */
export const mqttSink = defineSink({
  type: 'mqtt',
  description: 'Publishes events and retained per-class counts to an MQTT broker (Home Assistant, Node-RED).',
  options: mqttOptions,
  async create(options, ctx) {
    const { connect } = await import('mqtt');
    const prefix = options.topicPrefix.replace(/\/+$/, '');
    const statusTopic = `${prefix}/status`;
    // Not awaited: the first connection is tried in the background, and again every second, as
    // after a loss. Nothing is published before it (the queue below holds what waits).
    const client: MqttClient = connect(options.url, {
      clientId: options.clientId ?? `panoptes-${Math.random().toString(16).slice(2, 10)}`,
      username: options.username,
      password: options.password,
      reconnectPeriod: RECONNECT_MS,
      connectTimeout: CONNECT_TIMEOUT_MS,
      will: { topic: statusTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    let closing = false;
    /** Until the first connection: the broker has not been reached yet. */
    let everConnected = false;
    let warned = false;
    let lastError: string | undefined;
    const queue = new SinkQueue<Outgoing>({
      byteLength: (m) => byteLengthOf(m.payload) + byteLengthOf(m.topic),
      inFlightBytes: IN_FLIGHT_BYTES,
      maxQueuedBytes: options.maxQueuedBytes,
      overflow: 'backpressure',
      // Offline, messages wait here (bounded), not in the client's own unbounded queue.
      canTransmit: () => client.connected,
      transmit: (message, taken) => {
        const attempt = () =>
          client.publish(message.topic, message.payload, { qos: options.qos, retain: message.retain }, (error) => {
            if (!error || closing) return taken(error);
            if (!warned) ctx.log.warn(`mqtt: a publish failed (${error.message}); retrying`);
            warned = true;
            setTimeout(attempt, RETRY_MS).unref();
          });
        attempt();
      },
    });
    client.on('connect', () => {
      if (!everConnected) ctx.log.info(`mqtt: connected to ${options.url}${warned ? ' at last' : ''}`);
      else if (warned) ctx.log.info(`mqtt: connected to ${options.url} again`);
      everConnected = true;
      warned = false;
      client.publish(statusTopic, 'online', { qos: 1, retain: true });
      queue.pump();
    });
    client.on('offline', () => {
      if (!warned && !closing) {
        ctx.log.warn(
          everConnected
            ? `mqtt: lost ${options.url}; reconnecting every ${RECONNECT_MS / 1000} s`
            : `mqtt: cannot reach ${options.url} yet${lastError ? ` (${lastError})` : ''}: is the broker running, and are the credentials right? ` +
                `Trying every ${RECONNECT_MS / 1000} s; events wait (up to ${options.maxQueuedBytes} bytes), the video goes on`,
        );
      }
      warned = true;
    });
    client.on('error', (error) => {
      lastError = error.message;
      ctx.log.debug(`mqtt: ${error.message}`);
    });
    ctx.log.info(`mqtt: publishing to ${options.url} under ${prefix}/ (connecting in the background)`);

    /** Snapshots being encoded, awaited before the queue drains at close. */
    const snapshotsEncoding = new Set<Promise<void>>();
    /** Per topic, the latest event whose snapshot was asked for: encodes finish in any order. */
    const latestAsked = new Map<string, number>();
    let asked = 0;
    const publishSnapshot = (packet: FramePacket, event: AnalyticsEvent, stream: string) => {
      const topic = `${prefix}/${stream}/snapshot/${level(event.className)}`;
      const ticket = ++asked;
      latestAsked.set(topic, ticket);
      const encoding = eventSnapshot(packet, event)
        ?.then((jpeg) => {
          // An older event's picture that finishes late never replaces a newer one's.
          if (latestAsked.get(topic) === ticket) queue.offerLatest(topic, { topic, payload: jpeg, retain: true });
        })
        .catch((error: Error) => ctx.log.warn(`mqtt: no snapshot for event ${event.id} (${error.message})`))
        .finally(() => snapshotsEncoding.delete(encoding!));
      if (encoding) snapshotsEncoding.add(encoding);
    };

    /** The counts last published per stream, so only changes go out. */
    const published = new Map<string, Record<string, number>>();
    const publishCounts = (packet: FramePacket) => {
      const { stream, counts } = frameRecord(packet);
      const before = published.get(stream) ?? {};
      // A class that left the picture goes back to 0, rather than keep its last count forever.
      const now: Record<string, number> = { ...Object.fromEntries(Object.keys(before).map((c) => [c, 0])), ...counts };
      let changed = false;
      for (const [className, count] of Object.entries(now)) {
        if (before[className] === count) continue;
        changed = true;
        const topic = `${prefix}/${level(stream)}/counts/${level(className)}`;
        queue.offerLatest(topic, { topic, payload: JSON.stringify({ stream, className, count }), retain: true });
      }
      if (!changed && published.has(stream)) return;
      published.set(stream, now);
      const topic = `${prefix}/${level(stream)}/counts`;
      queue.offerLatest(topic, { topic, payload: JSON.stringify({ stream, counts: now }), retain: true });
    };

    return {
      write(packet) {
        const stream = level(packet.frame.stream);
        for (const event of packet.analytics?.events ?? []) {
          queue.push({ topic: `${prefix}/${stream}/events`, payload: JSON.stringify(event), retain: false });
          if (options.snapshots) publishSnapshot(packet, event, stream);
        }
        publishCounts(packet);
      },
      backpressure: () => queue.backpressure(),
      status: () => {
        const { queuedBytes, inFlightBytes, dropped } = queue.backlog;
        return { queuedBytes, inFlightBytes, connected: client.connected, droppedMessages: dropped };
      },
      get backlog() {
        return queue.backlog;
      },
      async close() {
        await Promise.all([...snapshotsEncoding]);
        await drainedWithin(queue, BROKER_CLOSE_GRACE_MS);
        if (queue.pendingMessages > 0) ctx.log.warn(`mqtt: stopping with ${queue.pendingMessages} messages not delivered to ${options.url}`);
        closing = true;
        queue.close();
        if (client.connected) await client.publishAsync(statusTopic, 'offline', { qos: 1, retain: true }).catch(() => undefined);
        await client.endAsync();
      },
    };
  },
});
