import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { defineSink } from '../../../pipeline/node.ts';
import { frameRecord } from '../frame-record.ts';
import { videoMessage } from '../viewer/frame-messages.ts';
import { openEventPublisher } from './event-publisher.ts';
import { shareNatsConnection } from './nats-connection.ts';
import { ensureEventsStream, streamSubject, subjectTokenProblem } from './subjects.ts';

const STATS_INTERVAL_MS = 1000;
const DROP_PLACE = 'nats';

export const natsOptions = z.object({
  url: z.string().regex(/^(nats|tls):\/\//, 'a NATS URL: nats://host:4222').describe('NATS server, e.g. nats://127.0.0.1:4222'),
  worker: z.string().min(1).optional().describe('Name put in every message (default: host name and process id)'),
  video: z.boolean().default(true).describe('Also publish the overlay JPEG (the viewer\'s video message) for panoptes dashboard --cluster'),
});

export type NatsOptions = z.infer<typeof natsOptions>;

/** The default worker name: unique per process, readable in a dashboard. */
export const defaultWorkerName = (): string => `${hostname()}-${process.pid}`;

/**
 * Publishes each stream's results on NATS subjects (subjects.ts): frame records, counts, stats
 * and overlay frames with core NATS (fire and forget: a frame nobody reads costs nothing, and
 * while the server is away they are skipped, counted at `nats`), and line and zone events with
 * JetStream, acknowledged and never dropped (event-publisher.ts). Every message names the worker.
 *
 * ```yaml
 * sinks:
 *   - { type: nats, url: nats://127.0.0.1:4222 }
 * ```
 */
export const natsSink = defineSink({
  type: 'nats',
  description: 'Publishes frame records, events (JetStream), counts, stats and overlay frames on NATS subjects.',
  options: natsOptions,
  async create(options, ctx) {
    for (const stream of ctx.streams) {
      const problem = subjectTokenProblem(stream);
      if (problem) throw new Error(`nats: ${problem}`);
    }
    const worker = options.worker ?? defaultWorkerName();
    const connection = await shareNatsConnection(options.url, ctx.log);
    try {
      await ensureEventsStream(connection.nc);
    } catch (error) {
      await connection.release();
      throw error;
    }
    const events = await openEventPublisher(connection.nc, ctx.log);
    const { nc } = connection;
    // Message ids must differ between two runs of a stream (its seq starts again at 0).
    const run = randomUUID().slice(0, 8);
    const seen = new Set<string>();
    const publish = (stream: string, subject: string, payload: string | Uint8Array) => {
      if (!connection.connected) return ctx.metrics.skip(stream, DROP_PLACE);
      try {
        nc.publish(subject, payload);
      } catch {
        ctx.metrics.skip(stream, DROP_PLACE);
      }
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
          events.publish(streamSubject(stream, 'events'), JSON.stringify({ ...event, worker }), `${stream}.${worker}.${run}.${record.seq}.${i}`);
        });
        publish(stream, streamSubject(stream, 'frames'), JSON.stringify({ ...record, worker }));
        const { seq, ptsMs, counts, unique, lines, zones, coverage } = record;
        publish(stream, streamSubject(stream, 'counts'), JSON.stringify({ type: 'counts', stream, seq, ptsMs, counts, unique, lines, zones, coverage, worker }));
        if (options.video) {
          const video = videoMessage(packet, Date.now());
          if (video) publish(stream, streamSubject(stream, 'video'), video);
        }
      },
      backpressure: () => events.backpressure(),
      get backlog() {
        return events.backlog;
      },
      async close() {
        clearInterval(statsTimer);
        await events.close();
        await connection.release();
      },
    };
  },
});
