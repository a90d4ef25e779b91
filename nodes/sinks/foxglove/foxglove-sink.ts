/**
 * A Foxglove WebSocket endpoint: open Foxglove, "Open connection", "Foxglove WebSocket",
 * `ws://127.0.0.1:8765`, and every stream shows up as four topics (foxglove-channels.ts):
 * the overlay image, its annotations, its counts and the crowd-density map.
 *
 * ```yaml
 * sinks:
 *   - { type: foxglove, port: 8765 }
 *   - { type: foxglove, host: 0.0.0.0, port: 8765, token: long-s3cret }   # reachable from the network
 * ```
 *
 * Like the viewer, it must never slow the pipeline:
 * - `write` builds each message once per frame, only for channels someone subscribes to, and
 *   only queues the same bytes on every subscribed socket;
 * - each client has its own queue (client-session.ts, on the sinks' shared queue,
 *   servers/queue/sink-queue.ts). A client holding `maxBufferedBytes` unsent bytes skips images
 *   (newest-wins: counted as drops at `foxglove`, and told so with a status), but is still sent
 *   every annotation and count;
 * - a client that stays stuck until it holds `disconnectBufferedBytes`, or that takes nothing
 *   for `stuckTimeoutMs` while data waits for it, is disconnected with a reason, so a dead
 *   connection cannot grow the server's memory; what it held is freed at once;
 * - every byte a client is sent counts against its budget: statuses too, and those answering the
 *   client's own requests are limited per request and per second (client-session.ts);
 * - at most `maxClients` are connected at once; one more is answered 503 before the WebSocket
 *   opens. A connection that sends no complete request in `headersTimeoutMs` is closed.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import { ConfigError } from '../../../pipeline/config/validation.ts';
import type { FramePacket } from '../../../pipeline/frame.ts';
import { defineSink, type GraphContext, type Sink } from '../../../pipeline/node.ts';
import { encodeAnnotationsMessage } from './annotations-message.ts';
import { totalBacklog, type QueueBacklog } from '../../../servers/queue/sink-queue.ts';
import { ClientSession, type SessionLimits } from './client-session.ts';
import { encodeCountsMessage } from './counts-message.ts';
import { encodeDensityImage } from './density-image.ts';
import { accessToken, allowedHostsOption, checkBind, createGuardedServer, refuseUpgrade, type AccessPolicy } from '../../../servers/access.ts';
import { advertsOf, CHANNELS_PER_STREAM, streamChannels, type StreamChannels } from './foxglove-channels.ts';
import { foxgloveTime, toNanoseconds } from './foxglove-time.ts';
import { chooseSubprotocol, StatusLevel, subprotocolRefusal } from './foxglove-wire.ts';
import { listen, urlHost } from '../../../servers/http-listen.ts';
import { encodeImageMessage } from './image-message.ts';

/** Where `ctx.metrics.skip` counts an image a slow client did not get. */
const DROP_PLACE = 'foxglove';
/** Clients send only subscribe and unsubscribe; anything bigger is abuse. */
const MAX_CLIENT_PAYLOAD_BYTES = 64 * 1024;
const CLOSE_GOING_AWAY = 1001;
/** How often clients are checked for being stuck (`stuckTimeoutMs`). */
const STUCK_CHECK_INTERVAL_MS = 1000;

const foxgloveOptions = z.object({
  host: z.string().default('127.0.0.1').describe('Address to bind; any address other than loopback needs a token'),
  port: z.number().int().min(0).max(65535).default(8765).describe('TCP port of the WebSocket endpoint (0 = any free port)'),
  maxBufferedBytes: z
    .number()
    .int()
    .positive()
    .default(4 * 1024 * 1024)
    .describe('Unsent bytes a client may hold before it skips images (per client); annotations and counts are never skipped'),
  disconnectBufferedBytes: z
    .number()
    .int()
    .positive()
    .default(16 * 1024 * 1024)
    .describe('Unsent bytes at which a stuck client is disconnected (per client)'),
  stuckTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(10_000)
    .describe('A client that takes nothing for this long while data waits for it is disconnected'),
  maxClients: z.number().int().positive().default(16).describe('Clients connected at once; one more is refused (503)'),
  headersTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(10_000)
    .describe('A connection that has not sent its whole upgrade request after this long is closed (slow clients)'),
  allowedHosts: allowedHostsOption,
  token: accessToken.optional(),
  trailLength: z.number().int().min(0).default(20).describe("Last positions of each track's trail sent (the tracker keeps the trail); 0 for none"),
  allowedOrigins: z
    .array(z.string())
    .default(['https://app.foxglove.dev'])
    .describe('Browser origins allowed to connect (clients without Origin, like the desktop app, always may)'),
});

export type FoxgloveOptions = z.infer<typeof foxgloveOptions>;
/** The options as a config or a test writes them: every key with a default may be left out. */
export type FoxgloveOptionsInput = z.input<typeof foxgloveOptions>;

export interface FoxgloveSink extends Sink {
  /** Where clients connect, e.g. `ws://127.0.0.1:8765`; the bound port when `port` was 0. */
  readonly url: string;
  /** The clients' queues added up: waiting and in-flight bytes, drops and send errors. */
  backlog(): QueueBacklog;
}

export const foxgloveSink = defineSink({
  type: 'foxglove',
  description: 'Serves every stream to Foxglove over its WebSocket protocol: overlay image, annotations, counts and the density map',
  options: foxgloveOptions,
  create: createFoxgloveSink,
});

/** The `create` of {@link foxgloveSink}, typed with the bound `url` (tests bind port 0). */
export async function createFoxgloveSink(options: FoxgloveOptions, ctx: GraphContext): Promise<FoxgloveSink> {
  // Browsers only from allowedOrigins (Foxglove's web app by default): the endpoint serves no page of its own.
  const policy: AccessPolicy = {
    server: 'foxglove',
    host: options.host,
    token: options.token,
    allowedHosts: options.allowedHosts,
    allowedOrigins: options.allowedOrigins,
    ownPages: false,
    settings: 'sink',
  };
  checkBind(policy);
  if (options.disconnectBufferedBytes <= options.maxBufferedBytes) {
    throw new ConfigError(
      `foxglove: disconnectBufferedBytes (${options.disconnectBufferedBytes}) must be larger than maxBufferedBytes (${options.maxBufferedBytes}), ` +
        'or slow clients are cut off before they ever skip an image',
    );
  }
  // Everything a client holds stays under disconnectBufferedBytes: in flight plus what waits.
  const sessionLimits: SessionLimits = {
    inFlightBytes: options.maxBufferedBytes,
    maxQueuedBytes: options.disconnectBufferedBytes - options.maxBufferedBytes,
  };

  const sockets = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_CLIENT_PAYLOAD_BYTES,
    // JPEG and base64 barely compress; deflate would only cost CPU per client.
    perMessageDeflate: false,
    handleProtocols: (offered) => chooseSubprotocol(offered) ?? false,
  });
  // Every request and upgrade passes the access policy first (Host, token, and for an upgrade
  // Origin); then the subprotocol and the client cap, still before the WebSocket opens.
  const server = createGuardedServer(
    policy,
    {
      request: (_req, res) => {
        res.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Upgrade: 'websocket' });
        res.end('This is a Foxglove WebSocket endpoint: open it from Foxglove (Open connection, Foxglove WebSocket).\n');
      },
      upgrade: (request, socket, head) => {
        const refusal =
          subprotocolRefusal(request) ??
          (sessions.size >= options.maxClients
            ? { status: 503 as const, reason: `${options.maxClients} clients are connected, the most this server takes (the foxglove sink's maxClients)` }
            : undefined);
        if (refusal) {
          ctx.log.debug(`foxglove: refused ${request.socket.remoteAddress ?? 'a client'}: ${refusal.reason}`);
          refuseUpgrade(socket, refusal.status, refusal.reason);
          return;
        }
        sockets.handleUpgrade(request, socket, head, (client) => accept(client));
      },
      log: ctx.log,
    },
    { headersTimeout: options.headersTimeoutMs, requestTimeout: options.headersTimeoutMs },
  );
  await listen(server, options.host, options.port, 'foxglove');
  const url = `ws://${urlHost(options.host)}:${(server.address() as AddressInfo).port}`;

  const channelsByStream = new Map<string, StreamChannels>();
  /** Every advertised channel id, and its stream. */
  const streamOfChannel = new Map<number, string>();
  const sessions = new Set<ClientSession>();
  /** Per stream, the density map last sent: `/<stream>/density` goes out once per estimate. */
  const densitySent = new Map<string, Float32Array>();
  // A new id per run: Foxglove clears what it shows when it reconnects to a new session.
  const sessionId = randomUUID();

  const channelsOf = (stream: string): StreamChannels => {
    let channels = channelsByStream.get(stream);
    if (!channels) {
      channels = streamChannels(stream, 1 + channelsByStream.size * CHANNELS_PER_STREAM);
      channelsByStream.set(stream, channels);
      for (const advert of advertsOf(channels)) streamOfChannel.set(advert.id, stream);
      // A stream the graph did not list up front (none today) is announced to those connected.
      for (const session of sessions) session.send({ op: 'advertise', channels: advertsOf(channels) });
    }
    return channels;
  };
  for (const stream of ctx.streams) channelsOf(stream);

  function accept(client: WebSocket): void {
    const session = new ClientSession(client, sessionLimits, {
      channelExists: (id) => streamOfChannel.has(id),
      onImageDropped: (channelId) => ctx.metrics.skip(streamOfChannel.get(channelId) ?? '', DROP_PLACE),
      onCut: (reason, cause) =>
        ctx.log.warn(cause === 'overflow' ? `foxglove: disconnecting a client that stopped reading (${reason})` : `foxglove: disconnecting a client: ${reason}`),
    });
    sessions.add(session);
    client.on('close', () => sessions.delete(session));
    client.on('error', (error) => ctx.log.debug(`foxglove client: ${error.message}`));
    client.on('message', (data, isBinary) => {
      if (isBinary) session.receiveBinary();
      else session.receiveText(data.toString());
    });
    session.send({ op: 'serverInfo', name: 'panoptes', capabilities: [], sessionId });
    const channels = [...channelsByStream.values()].flatMap(advertsOf);
    if (channels.length > 0) session.send({ op: 'advertise', channels });
  }

  /** Sends `encode()` to every subscriber of `channelId`, encoding it only if there is one. */
  const sendToSubscribers = (channelId: number, timestampNs: bigint, encode: () => Buffer) => {
    let payload: Buffer | undefined;
    for (const session of sessions) {
      const subscriptionId = session.subscriptionFor(channelId);
      if (subscriptionId === undefined) continue;
      payload ??= encode();
      session.sendMessageData(subscriptionId, timestampNs, payload);
    }
  };

  const sendImage = (packet: FramePacket, channelId: number, timestampNs: bigint) => {
    const overlay = packet.overlay;
    if (!overlay) return;
    let payload: Buffer | undefined;
    for (const session of sessions) {
      const subscriptionId = session.subscriptionFor(channelId);
      if (subscriptionId === undefined) continue;
      payload ??= encodeImageMessage(packet.frame, overlay);
      session.offerImage(channelId, subscriptionId, timestampNs, payload);
    }
  };

  const stuckCheck = setInterval(() => {
    const now = Date.now();
    for (const session of sessions) session.checkStuck(options.stuckTimeoutMs, now);
  }, Math.min(STUCK_CHECK_INTERVAL_MS, options.stuckTimeoutMs));
  stuckCheck.unref();

  ctx.log.info(`foxglove on ${url}${options.token === undefined ? '' : ' (token required)'}`);

  return {
    url,
    write(packet) {
      const { stream, capturedAtMs } = packet.frame;
      const channels = channelsOf(stream);
      const timestampNs = toNanoseconds(foxgloveTime(capturedAtMs));

      // Small, lossless channels first: they never wait behind the image of the same frame.
      sendToSubscribers(channels.counts.id, timestampNs, () => encodeCountsMessage(packet));
      sendToSubscribers(channels.annotations.id, timestampNs, () =>
        encodeAnnotationsMessage({ packet, trailPoints: options.trailLength }),
      );
      const { density } = packet;
      if (density && densitySent.get(stream) !== density.map) {
        densitySent.set(stream, density.map);
        sendToSubscribers(channels.density.id, timestampNs, () => encodeDensityImage(packet.frame, density));
      }
      sendImage(packet, channels.image.id, timestampNs);
    },
    backlog: () => totalBacklog(sessions),
    status: () => ({ clients: sessions.size, ...totalBacklog(sessions) }),
    streamEnded(stream, error) {
      const status = error
        ? { op: 'status' as const, level: StatusLevel.error, message: `stream ${stream} failed: ${error.message}` }
        : { op: 'status' as const, level: StatusLevel.info, message: `stream ${stream} ended` };
      for (const session of sessions) session.send(status);
    },
    async close() {
      clearInterval(stuckCheck);
      await Promise.all([...sessions].map((session) => session.disconnect(CLOSE_GOING_AWAY, 'server shutting down')));
      await new Promise<void>((resolve) => sockets.close(() => resolve()));
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
