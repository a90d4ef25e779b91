import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { defineSink } from '../../../pipeline/node.ts';
import type { FramePacket } from '../../../pipeline/frame.ts';
import type { AnalyticsEvent } from '../../../pipeline/analytics-types.ts';
import { eventSnapshot } from '../../render/event-snapshot.ts';
import { frameRecord } from '../frame-record.ts';
import { binaryMessage, videoMessage } from '../viewer/frame-messages.ts';
import { openEventPublisher } from './event-publisher.ts';
import { shareNatsConnection, type SharedNatsConnection } from '../../../servers/nats/connection.ts';
import { ensureEventsStream, streamSubject, subjectTokenProblem } from '../../../servers/nats/subjects.ts';

const STATS_INTERVAL_MS = 1000;
/** Snapshots held until their event is stored; past it, one more is dropped (counted), not held. */
const MAX_SNAPSHOTS_PENDING = 32;
const DROP_PLACE = 'nats';
/** A server not reached yet is tried again this often, in the background. */
const CONNECT_RETRY_MS = 1000;
/** How long the graph's build waits for the first try: a server that is up is connected before the first frame. */
const FIRST_CONNECT_GRACE_MS = 2000;

export const natsOptions = z.object({
  url: z.string().regex(/^(nats|tls):\/\//, 'a NATS URL: nats://host:4222').describe('NATS server, e.g. nats://127.0.0.1:4222'),
  worker: z.string().min(1).optional().describe('Name put in every message (default: host name and process id)'),
  video: z.boolean().default(true).describe('Also publish the overlay JPEG (the viewer\'s video message) for panoptes dashboard --cluster'),
  snapshots: z.boolean().default(true).describe('Also publish each event\'s snapshot JPEG (the viewer\'s snapshot message) for panoptes dashboard --cluster'),
});

export type NatsOptions = z.infer<typeof natsOptions>;

/** The default worker name: unique per process, readable in a dashboard. */
export const defaultWorkerName = (): string => `${hostname()}-${process.pid}`;

/**
 * Publishes each stream's results on NATS subjects (subjects.ts): frame records, counts, stats,
 * overlay frames and event snapshots with core NATS (fire and forget: a frame nobody reads costs
 * nothing, and while the server is away they are skipped, a frame's counted at `nats`), and line
 * and zone events with JetStream, acknowledged and never dropped (event-publisher.ts). Every JSON
 * message names the worker.
 *
 * A server that is not up at start never holds up the video: the sink connects in the
 * background, as after a loss (every second), events wait in its bounded queue and frames are
 * skipped meanwhile; the connection and the backlog are in `/metrics`.
 *
 * ```yaml
 * sinks:
 *   - { type: nats, url: nats://127.0.0.1:4222 }
 * ```
 */
export const natsSink = defineSink({
  type: 'nats',
  description: 'Publishes frame records, events (JetStream), counts, stats, overlay frames and event snapshots on NATS subjects.',
  options: natsOptions,
  async create(options, ctx) {
    for (const stream of ctx.streams) {
      const problem = subjectTokenProblem(stream);
      if (problem) throw new Error(`nats: ${problem}`);
    }
    const worker = options.worker ?? defaultWorkerName();
    const events = await openEventPublisher(undefined, ctx.log);
    let connection: SharedNatsConnection | undefined;
    let closed = false;
    let retry: NodeJS.Timeout | undefined;
    let tries = 0;
    /** One try to reach the server and make sure of the events stream; tried again until it works or the sink closes. */
    const tryConnect = async (): Promise<void> => {
      tries++;
      try {
        const reached = await shareNatsConnection(options.url, ctx.log);
        if (closed) return void (await reached.release());
        try {
          await ensureEventsStream(reached.nc);
        } catch (error) {
          await reached.release();
          throw error;
        }
        if (closed) return void (await reached.release());
        connection = reached;
        events.connect(reached.nc);
        if (tries > 1) ctx.log.info(`nats: connected to ${options.url} at last (try ${tries})`);
      } catch (error) {
        if (closed) return;
        const message = (error as Error).message;
        if (tries === 1) {
          ctx.log.warn(
            `${message}; trying again every ${CONNECT_RETRY_MS / 1000} s in the background: events wait (bounded), frames are skipped, the video goes on`,
          );
        } else ctx.log.debug(`nats: try ${tries}: ${message}`);
        retry = setTimeout(() => void tryConnect(), CONNECT_RETRY_MS);
      }
    };
    const first = tryConnect();
    await Promise.race([first, new Promise((resolve) => setTimeout(resolve, FIRST_CONNECT_GRACE_MS).unref())]);
    // Message ids must differ between two runs of a stream (its seq starts again at 0).
    const run = randomUUID().slice(0, 8);
    const seen = new Set<string>();
    let skipped = 0;
    /** False, counted in `droppedMessages`, when the server is away or the client refuses the message. */
    const tryPublish = (subject: string, payload: string | Uint8Array): boolean => {
      try {
        if (connection?.connected) {
          connection.nc.publish(subject, payload);
          return true;
        }
      } catch {
        // Dropped, as while the server is away.
      }
      skipped++;
      return false;
    };
    /** A frame's message (or the stats) that cannot go is also a frame skipped at `nats`. */
    const publish = (stream: string, subject: string, payload: string | Uint8Array) => {
      if (!tryPublish(subject, payload)) ctx.metrics.skip(stream, DROP_PLACE);
    };
    /** Snapshots encoding or waiting for their event to be stored, each with what gives it up. */
    const snapshotsPending = new Map<Promise<void>, () => void>();
    /**
     * An event's snapshot, as the viewer's binary `snapshot` message, for the cluster dashboard to
     * relay as it is. The JPEG is the one every sink shares (render/event-snapshot.ts, which also
     * bounds the encodes at once). It goes out once JetStream has stored its event: the page
     * ignores a snapshot of an event it has not listed, and the events wait in a queue (and
     * through a reconnection) while snapshots go straight out. Returns what to call when the
     * event is stored; undefined when no snapshot goes: the server is away, too many wait, or too
     * many are encoding. Each of those is a message dropped, not a frame skipped, as in the viewer.
     */
    const snapshotOnceStored = (packet: FramePacket, event: AnalyticsEvent): (() => void) | undefined => {
      const jpeg = connection?.connected && snapshotsPending.size < MAX_SNAPSHOTS_PENDING ? eventSnapshot(packet, event) : undefined;
      if (!jpeg) {
        skipped++;
        return undefined;
      }
      const { stream } = packet.frame;
      let settle!: (stored: boolean) => void;
      const stored = new Promise<boolean>((resolve) => (settle = resolve));
      const sending: Promise<void> = Promise.all([jpeg, stored])
        .then(([picture, isStored]) => {
          // tryPublish counts its own failures; an event never stored (the sink closed first) drops its picture.
          if (isStored) tryPublish(streamSubject(stream, 'snapshots'), binaryMessage({ type: 'snapshot', stream, id: event.id }, picture));
          else skipped++;
        })
        .catch((error: Error) => ctx.log.warn(`nats: no snapshot for event ${event.id} (${error.message})`))
        .finally(() => snapshotsPending.delete(sending));
      snapshotsPending.set(sending, () => settle(false));
      return () => settle(true);
    };
    const statsTimer = setInterval(() => {
      for (const stats of ctx.metrics.snapshot()) {
        if (seen.has(stats.stream)) publish(stats.stream, streamSubject(stats.stream, 'stats'), JSON.stringify({ type: 'stats', ...stats, worker }));
      }
    }, STATS_INTERVAL_MS);
    statsTimer.unref();

    return {
      write(packet) {
        const { stream } = packet.frame;
        seen.add(stream);
        const record = frameRecord(packet);
        packet.analytics?.events.forEach((event, i) => {
          const onStored = options.snapshots ? snapshotOnceStored(packet, event) : undefined;
          events.publish(streamSubject(stream, 'events'), JSON.stringify({ ...event, worker }), `${stream}.${worker}.${run}.${record.seq}.${i}`, onStored);
        });
        publish(stream, streamSubject(stream, 'frames'), JSON.stringify({ ...record, worker }));
        const { seq, ptsMs, counts, unique, lines, zones, coverage, density } = record;
        publish(stream, streamSubject(stream, 'counts'), JSON.stringify({ type: 'counts', stream, seq, ptsMs, counts, unique, lines, zones, coverage, density, worker }));
        if (options.video) {
          const video = videoMessage(packet, Date.now());
          if (video) publish(stream, streamSubject(stream, 'video'), video);
        }
      },
      backpressure: () => events.backpressure(),
      status: () => {
        const { queuedBytes, inFlightBytes } = events.backlog;
        return { queuedBytes, inFlightBytes, connected: connection?.connected ?? false, droppedMessages: skipped };
      },
      get backlog() {
        return events.backlog;
      },
      async close() {
        closed = true;
        clearTimeout(retry);
        clearInterval(statsTimer);
        // The events first: each one stored lets its snapshot go while the connection is still up.
        await events.close();
        for (const giveUp of snapshotsPending.values()) giveUp();
        await Promise.all([...snapshotsPending.keys()]);
        await connection?.release();
      },
    };
  },
});
