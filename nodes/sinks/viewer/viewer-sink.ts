/**
 * The live viewer: one HTTP server that serves the dashboard (`viewer/index.html` at `/`, its
 * script, viewer/app.ts bundled, at `/app.js`: servers/viewer-protocol/serve-page.ts) and
 * the viewer protocol (docs/protocol.md) over a WebSocket at `/ws` on the same port.
 *
 * Clients subscribe to topics per stream: `video` (the rendered overlay), `frames` (raw frame +
 * segment map, for clients that draw their own), `events`, `counts`, `stats` and `density` (the
 * crowd-density map as a small grid of bytes, once per estimate). Each frame's
 * messages are built once and shared. Each client has its own queue
 * (servers/viewer-protocol/client-channel.ts, on the shared queue, servers/queue/sink-queue.ts):
 * frames are newest-wins, events and counts are never dropped, and a client that cannot keep up
 * is disconnected rather than allowed to grow the server's memory. Nothing in `write` ever waits
 * on a client. The same port answers `/metrics`, `/healthz` and `/readyz`
 * (../metrics/health-routes.ts).
 */
import { loadDashboardPage, servePage } from '../../../servers/viewer-protocol/serve-page.ts';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { z } from 'zod';
import type { FramePacket } from '../../../pipeline/frame.ts';
import type { AnalyticsEvent } from '../../../pipeline/analytics-types.ts';
import { defineSink, type GraphContext, type Sink } from '../../../pipeline/node.ts';
import { listen, urlHost } from '../../../servers/http-listen.ts';
import { accessToken, allowedHostsOption, checkBind, createGuardedServer, isLoopback, type AccessPolicy } from '../../../servers/access.ts';
import { healthRoutes } from '../metrics/health-routes.ts';
import { viewerUpgrades } from '../../../servers/viewer-protocol/upgrades.ts';
import { closeWithGrace } from '../../../servers/queue/close-grace.ts';
import { totalBacklog, type QueueBacklog } from '../../../servers/queue/sink-queue.ts';
import { ClientChannel } from '../../../servers/viewer-protocol/client-channel.ts';
import { answerClientMessage } from '../../../servers/viewer-protocol/client-messages.ts';
import { eventSnapshot } from '../../render/event-snapshot.ts';
import { binaryMessage, countsMessage, densityMessage, framesMessage, framesSnapshot, videoMessage } from './frame-messages.ts';
import { ALL_STREAMS, PROTOCOL_VERSION, TOPICS, type FailedSink, type ServerEvent, type StatsMessage, type Topic } from '../../../servers/viewer-protocol/protocol.ts';

const SOCKET_PATH = '/ws';
const STATS_INTERVAL_MS = 500;
/** Clients send small control messages; anything bigger is abuse. */
const MAX_CLIENT_PAYLOAD_BYTES = 64 * 1024;
const DROP_PLACE = 'viewer';

export const viewerOptions = z.object({
  host: z.string().default('127.0.0.1').describe('Address to bind; any other than loopback needs a token'),
  port: z.number().int().min(0).max(65535).default(8080).describe('TCP port for the page and its WebSocket (0 = any free port)'),
  token: accessToken.optional(),
  allowedOrigins: z.array(z.string()).default([]).describe('Browser origins besides this server itself allowed to connect'),
  allowedHosts: allowedHostsOption,
  inFlightBytes: z.number().int().positive().default(1_000_000).describe('Bytes a client may have in transit before frames wait (and get replaced)'),
  maxQueuedBytes: z.number().int().positive().default(8_000_000).describe('Never-dropped messages waiting for a client before it is disconnected'),
  stuckTimeoutMs: z.number().int().positive().default(10_000).describe('A client that takes nothing for this long is disconnected'),
  jpegQuality: z.number().int().min(1).max(100).default(80).describe('JPEG quality of raw frames on the frames topic'),
});

export type ViewerOptions = z.infer<typeof viewerOptions>;

export interface ViewerSink extends Sink {
  /** Where the page is served, e.g. `http://127.0.0.1:8080`; the bound port when `port` was 0. */
  readonly url: string;
  /** Bytes waiting for clients in the server's own queues (not yet handed to a socket). */
  waitingBytes(): number;
  /** The clients' queues added up: waiting and in-flight bytes, drops and send errors. */
  backlog(): QueueBacklog;
}

export const viewerSink = defineSink({
  type: 'viewer',
  description: 'Serves the live dashboard and the viewer protocol (video, frames, events, counts, stats, density)',
  options: viewerOptions,
  create: createViewerSink,
});

/** The `create` of {@link viewerSink}, typed with the bound `url` (tests bind port 0). */
export async function createViewerSink(options: ViewerOptions, ctx: GraphContext): Promise<ViewerSink> {
  const policy: AccessPolicy = {
    server: 'viewer',
    host: options.host,
    token: options.token,
    allowedHosts: options.allowedHosts,
    allowedOrigins: options.allowedOrigins,
    ownPages: true,
    settings: 'sink',
  };
  checkBind(policy);
  // Load the page now so a missing file or a script that does not build fails while the graph is built, not on the first visit.
  const page = await loadDashboardPage();
  // /metrics, /healthz and /readyz beside the page; every route and the socket under one policy.
  const health = healthRoutes(ctx.metrics);
  const sockets = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_CLIENT_PAYLOAD_BYTES,
    // JPEG does not compress; deflate would only cost CPU per client.
    perMessageDeflate: false,
  });
  const server = createGuardedServer(policy, {
    request: (req, res) => {
      if (!health(req, res)) servePage(req, res, page);
    },
    upgrade: viewerUpgrades(sockets, { path: SOCKET_PATH, name: 'viewer' }),
    log: ctx.log,
  });
  await listen(server, options.host, options.port, 'viewer');
  const address = server.address() as AddressInfo;
  const url = `http://${urlHost(options.host)}:${address.port}`;

  const streams = new Set(ctx.streams);
  const channels = new Set<ClientChannel>();
  /** The newest message per stream and frame topic, for clients that subscribe later. */
  const newest = new Map<string, Buffer>();
  const framesEncoding = new Set<string>();
  /** Per stream, the density map last sent: a `density` message goes out only for a new estimate. */
  const densitySent = new Map<string, Float32Array>();
  const limits = { inFlightBytes: options.inFlightBytes, maxQueuedBytes: options.maxQueuedBytes, stuckTimeoutMs: options.stuckTimeoutMs };
  const countDrop = (stream: string, topic?: Topic) => {
    // A thumbnail replaced by a newer one is not a frame the client missed.
    if (topic !== 'snapshots') ctx.metrics.skip(stream, DROP_PLACE);
  };

  sockets.on('connection', (socket: WebSocket) => {
    const channel = new ClientChannel(socket, limits, countDrop, (reason) => ctx.log.warn(`viewer: disconnecting a client: ${reason}`));
    channels.add(channel);
    socket.on('close', () => channels.delete(channel));
    socket.on('error', (error) => ctx.log.debug(`viewer client: ${error.message}`));
    socket.on('message', (data, isBinary) => {
      const subscribed = answerClientMessage(channel, data, isBinary, {
        topics: TOPICS,
        knowsStream: (s) => streams.has(s),
        streams: () => [...streams],
      });
      if (!subscribed) return;
      // A new subscriber sees a picture at once, not at the next frame.
      for (const [key, frame] of newest) {
        const [topic, stream] = key.split('\u0000') as [Topic, string];
        if (subscribed.includes(topic)) channel.offerFrame(stream, topic, frame);
      }
    });
    channel.send({
      type: 'hello',
      server: 'panoptes',
      protocol: PROTOCOL_VERSION,
      streams: [...streams],
      topics: TOPICS,
      limits: { maxClientMessageBytes: MAX_CLIENT_PAYLOAD_BYTES, maxQueuedBytes: options.maxQueuedBytes, stuckTimeoutMs: options.stuckTimeoutMs },
    });
  });

  const offerFrame = (stream: string, topic: Topic, message: Buffer) => {
    newest.set(`${topic}\u0000${stream}`, message);
    for (const channel of channels) channel.offerFrame(stream, topic, message);
  };
  // Serialized once, whatever the number of clients.
  const sendTo = (stream: string, topic: Topic, event: ServerEvent | string) => {
    const text = typeof event === 'string' ? event : JSON.stringify(event);
    for (const channel of channels) if (channel.wants(stream, topic)) channel.send(text);
  };

  /**
   * An event's snapshot comes on the `snapshots` topic after the event (binary,
   * `{"type":"snapshot","stream","id"}` and the JPEG), encoded only when a client wants the
   * stream's snapshots, once however many do (render/event-snapshot.ts). Newest wins per stream: a
   * thumbnail is not worth a slow client's memory, and one replaced is not a frame skipped.
   */
  const sendSnapshot = (packet: FramePacket, event: AnalyticsEvent) => {
    const stream = packet.frame.stream;
    if (![...channels].some((c) => c.wants(stream, 'snapshots'))) return;
    eventSnapshot(packet, event)
      ?.then((jpeg) => {
        const message = binaryMessage({ type: 'snapshot', stream, id: event.id }, jpeg);
        for (const channel of channels) channel.offerFrame(stream, 'snapshots', message);
      })
      .catch((error: Error) => ctx.log.warn(`viewer: no snapshot for event ${event.id} (${error.message})`));
  };

  const statsTimer = setInterval(() => {
    const now = Date.now();
    // The pipeline's part is the same for every client: serialized once per tick.
    const streamsJson = JSON.stringify(ctx.metrics.snapshot() satisfies StatsMessage['streams']);
    // Sinks that failed (an optional one whose disk filled: the run goes on without it).
    const { failedSinks } = ctx.metrics.readiness();
    const failedJson = failedSinks ? `,"failedSinks":${JSON.stringify(failedSinks.map(({ sink, reason, optional }): FailedSink => ({ sink, reason, optional })))}` : '';
    for (const channel of channels) {
      channel.checkStuck(now);
      if (channel.wants(ALL_STREAMS, 'stats') || [...streams].some((s) => channel.wants(s, 'stats'))) {
        const client = JSON.stringify({ dropped: channel.dropped, queuedBytes: channel.waitingBytes } satisfies StatsMessage['client']);
        channel.send(`{"type":"stats","streams":${streamsJson}${failedJson},"client":${client}}`);
      }
    }
  }, STATS_INTERVAL_MS);
  statsTimer.unref();

  ctx.log.info(`viewer on ${url}`);
  if (!isLoopback(options.host)) ctx.log.warn(`viewer is reachable from the network on ${options.host}; clients need its token`);

  const wantsFrames = (stream: string) => [...channels].some((c) => c.wants(stream, 'frames'));

  return {
    url,
    waitingBytes: () => [...channels].reduce((n, c) => n + c.waitingBytes, 0),
    backlog: () => totalBacklog(channels),
    status: () => ({ clients: channels.size, ...totalBacklog(channels) }),
    write(packet) {
      const { stream } = packet.frame;
      streams.add(stream);
      for (const event of packet.analytics?.events ?? []) {
        sendTo(stream, 'events', event);
        sendSnapshot(packet, event);
      }
      // Once per estimate (every few frames), kept for clients that subscribe later.
      if (packet.density && densitySent.get(stream) !== packet.density.map) {
        densitySent.set(stream, packet.density.map);
        offerFrame(stream, 'density', densityMessage(packet, Date.now())!);
      }
      if (channels.size === 0) return;
      sendTo(stream, 'counts', countsMessage(packet));
      const video = videoMessage(packet, Date.now());
      if (video) offerFrame(stream, 'video', video);
      // Raw frames cost an extra encode: only when someone wants them, one at a time per stream.
      if (wantsFrames(stream)) {
        if (framesEncoding.has(stream)) {
          countDrop(stream);
          return;
        }
        const snapshot = framesSnapshot(packet);
        if (!snapshot) return;
        framesEncoding.add(stream);
        framesMessage(snapshot, options.jpegQuality)
          .then((message) => offerFrame(stream, 'frames', message))
          .catch((error: Error) => ctx.log.error(`viewer: cannot encode a raw frame of ${stream}: ${error.message}`))
          .finally(() => framesEncoding.delete(stream));
      }
    },
    streamEnded(stream, error) {
      const text = JSON.stringify((error ? { type: 'ended', stream, error: error.message } : { type: 'ended', stream }) satisfies ServerEvent);
      for (const channel of channels) channel.send(text);
    },
    async close() {
      clearInterval(statsTimer);
      await Promise.all([...sockets.clients].map((client) => closeWithGrace(client, 1001, 'server shutting down')));
      await new Promise<void>((resolve) => sockets.close(() => resolve()));
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Idle keep-alive connections from the page load would hold `close` open.
        server.closeAllConnections();
      });
    },
  };
}
