/**
 * The live viewer: one HTTP server that serves `viewer/index.html` at `/` and pushes every
 * rendered frame to the page over a WebSocket at `/ws` on the same port.
 *
 * Wire format (server to page; the page sends nothing yet):
 *
 * - **binary**, one per frame: `u32 big-endian header length | UTF-8 JSON {@link FrameHeader} |
 *   JPEG bytes`. Built once per frame and shared by every client.
 * - **text**, JSON {@link ViewerEvent}: `hello` on connect, `stats` every 500 ms, `ended` when a
 *   stream ends, `error` in reply to any message a client sends.
 *
 * A viewer must never slow the pipeline: `write` only queues bytes on sockets, and a client whose
 * socket already holds more than `maxBufferedBytes` unsent bytes skips the frame (counted as a
 * drop at `viewer`) instead of growing the queue without bound.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { z } from 'zod';
import type { AnalyticsEvent, FramePacket, LineTotals, Segment, ZoneTotals } from '../../pipeline/frame.ts';
import { defineSink, type GraphContext, type Sink } from '../../pipeline/node.ts';
import type { StreamStats } from '../../pipeline/metrics.ts';
import { thingCounts } from '../analytics/thing-counts.ts';

const PAGE_URL = new URL('../../viewer/index.html', import.meta.url);
const SOCKET_PATH = '/ws';
const STATS_INTERVAL_MS = 500;
/** The page sends nothing yet; anything bigger than a small control message is abuse. */
const MAX_CLIENT_PAYLOAD_BYTES = 64 * 1024;
/** How long `close()` waits for clients to answer the close handshake before cutting them off. */
const CLOSE_GRACE_MS = 500;
/** Drop place reported to `ctx.metrics.drop` when a slow client skips a frame. */
const DROP_PLACE = 'viewer';

const viewerOptions = z.object({
  host: z
    .string()
    .default('127.0.0.1')
    .describe('Address to bind; the viewer has no authentication, so keep it on loopback unless you mean it'),
  port: z.number().int().min(0).max(65535).default(8080).describe('TCP port for the page and its WebSocket (0 = any free port)'),
  maxBufferedBytes: z
    .number()
    .int()
    .positive()
    .default(2_000_000)
    .describe('Unsent bytes a client may hold before it skips frames (per client)'),
});

export type ViewerOptions = z.infer<typeof viewerOptions>;

/** A thing segment as the page draws it; `bbox` is `[x, y, width, height]` in JPEG pixels. */
export interface ViewerSegment {
  readonly id: number;
  readonly className: string;
  readonly bbox: readonly [number, number, number, number];
  readonly score: number;
  readonly trackId?: number;
}

/** The JSON header of a binary frame message. */
export interface FrameHeader {
  readonly type: 'frame';
  readonly stream: string;
  readonly seq: number;
  readonly ptsMs: number;
  /** `Date.now()` when the source emitted the frame. */
  readonly capturedAtMs: number;
  /** `Date.now()` when the viewer built this message. */
  readonly sentAtMs: number;
  /** Size of the JPEG. */
  readonly width: number;
  readonly height: number;
  /** Things per class name: confirmed tracks when analytics run, else every thing segment. */
  readonly counts: Readonly<Record<string, number>>;
  /** Thing segments only: stuff has no box worth labelling. */
  readonly segments: readonly ViewerSegment[];
  /** Counting lines and zones with their totals, in normalized coordinates (with analytics). */
  readonly lines?: readonly LineTotals[];
  readonly zones?: readonly ZoneTotals[];
  /** Distinct objects since the start, per class (with analytics). */
  readonly unique?: Readonly<Record<string, number>>;
}

/** Text messages from the server. */
export type ViewerEvent =
  | { readonly type: 'hello'; readonly server: 'panoptes'; readonly streams: readonly string[] }
  | { readonly type: 'stats'; readonly streams: readonly StreamStats[] }
  | { readonly type: 'ended'; readonly stream: string; readonly error?: string }
  | { readonly type: 'error'; readonly message: string }
  | AnalyticsEvent;

export interface ViewerSink extends Sink {
  /** Where the page is served, e.g. `http://127.0.0.1:8080`; the bound port when `port` was 0. */
  readonly url: string;
}

export const viewerSink = defineSink({
  type: 'viewer',
  description: 'Serves a live web page that shows the rendered overlay, labels and pipeline stats of every stream',
  options: viewerOptions,
  create: createViewerSink,
});

/** The `create` of {@link viewerSink}, typed with the bound `url` (tests bind port 0). */
export async function createViewerSink(options: ViewerOptions, ctx: GraphContext): Promise<ViewerSink> {
  // Read the page now so a missing file fails while the graph is built, not on the first visit.
  const page = await readFile(PAGE_URL);
  const server = createServer((req, res) => servePage(req, res, page));
  await listen(server, options.host, options.port);

  const address = server.address() as AddressInfo;
  const url = `http://${urlHost(options.host)}:${address.port}`;
  // Created after `listen` succeeded: a WebSocketServer re-emits its HTTP server's errors, and
  // a bind failure is reported above with a clearer message.
  const sockets = new WebSocketServer({
    server,
    path: SOCKET_PATH,
    maxPayload: MAX_CLIENT_PAYLOAD_BYTES,
    // JPEG does not compress; deflate would only cost CPU per client.
    perMessageDeflate: false,
  });
  sockets.on('error', (error) => ctx.log.error(`viewer socket server: ${error.message}`));

  /** Streams in the order their first frame arrived, with their newest frame message. */
  const latestFrame = new Map<string, Buffer>();

  sockets.on('connection', (client) => {
    client.on('error', (error) => ctx.log.debug(`viewer client: ${error.message}`));
    client.on('message', () => sendEvent(client, { type: 'error', message: 'this server accepts no messages yet' }));
    sendEvent(client, { type: 'hello', server: 'panoptes', streams: [...latestFrame.keys()] });
    // A page opened on a paused or finished pipeline still shows something.
    for (const message of latestFrame.values()) client.send(message, { binary: true });
  });

  const statsTimer = setInterval(() => {
    if (sockets.clients.size === 0) return;
    broadcastEvent(sockets, { type: 'stats', streams: ctx.metrics.snapshot() });
  }, STATS_INTERVAL_MS);
  // Stats alone must not keep the process alive.
  statsTimer.unref();

  ctx.log.info(`viewer on ${url}`);
  if (!isLoopback(options.host)) ctx.log.warn(`viewer is reachable from the network on ${options.host} and has no authentication`);

  return {
    url,
    write(packet) {
      // Line and zone events are small and must never be lost: sent to every client, always.
      for (const event of packet.analytics?.events ?? []) broadcastEvent(sockets, event);
      if (!packet.overlay) return;
      const message = encodeFrameMessage(packet, Date.now());
      latestFrame.set(packet.frame.stream, message);
      for (const client of sockets.clients) {
        if (client.readyState !== WebSocket.OPEN) continue;
        if (client.bufferedAmount > options.maxBufferedBytes) {
          ctx.metrics.drop(packet.frame.stream, DROP_PLACE);
          continue;
        }
        client.send(message, { binary: true });
      }
    },
    streamEnded(stream, error) {
      broadcastEvent(sockets, error ? { type: 'ended', stream, error: error.message } : { type: 'ended', stream });
    },
    async close() {
      clearInterval(statsTimer);
      await closeClients(sockets);
      await new Promise<void>((resolve) => sockets.close(() => resolve()));
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Idle keep-alive connections from the page load would hold `close` open.
        server.closeAllConnections();
      });
    },
  };
}

/**
 * Builds the binary message of one frame: `u32 BE header length | JSON header | JPEG`.
 * The JPEG is copied, so the message stays valid after the packet's buffers are released.
 */
export function encodeFrameMessage(packet: FramePacket, sentAtMs: number): Buffer {
  const overlay = packet.overlay;
  if (!overlay) throw new Error(`frame ${packet.frame.seq} of ${packet.frame.stream} has no overlay to send`);
  const things = (packet.panoptic?.segments ?? []).filter((segment) => segment.isThing);
  // Boxes are in panoptic (frame) pixels; the page draws on the JPEG, which may be scaled.
  const scaleX = packet.panoptic ? overlay.width / packet.panoptic.width : 1;
  const scaleY = packet.panoptic ? overlay.height / packet.panoptic.height : 1;
  const header: FrameHeader = {
    type: 'frame',
    stream: packet.frame.stream,
    seq: packet.frame.seq,
    ptsMs: packet.frame.ptsMs,
    capturedAtMs: packet.frame.capturedAtMs,
    sentAtMs,
    width: overlay.width,
    height: overlay.height,
    counts: packet.analytics?.counts ?? thingCounts(things),
    segments: things.map((segment) => toViewerSegment(segment, scaleX, scaleY)),
    ...(packet.analytics
      ? { lines: packet.analytics.lines, zones: packet.analytics.zones, unique: packet.analytics.unique }
      : {}),
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const message = Buffer.allocUnsafe(4 + json.length + overlay.jpeg.length);
  message.writeUInt32BE(json.length, 0);
  json.copy(message, 4);
  overlay.jpeg.copy(message, 4 + json.length);
  return message;
}

function toViewerSegment(segment: Segment, scaleX: number, scaleY: number): ViewerSegment {
  const [x, y, width, height] = segment.bbox;
  const bbox = [x * scaleX, y * scaleY, width * scaleX, height * scaleY] as const;
  const base = { id: segment.id, className: segment.className, bbox, score: segment.score };
  return segment.trackId === undefined ? base : { ...base, trackId: segment.trackId };
}

/** Only the page itself is served: no path is ever mapped to a file, so nothing can traverse. */
function servePage(req: IncomingMessage, res: ServerResponse, page: Buffer): void {
  const pathname = new URL(req.url ?? '/', 'http://viewer').pathname;
  if (pathname !== '/' && pathname !== '/index.html') {
    sendText(res, 404, 'not found');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    sendText(res, 405, 'method not allowed');
    return;
  }
  res.writeHead(200, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': page.length,
    // The page changes with the code; a stale cached copy would speak an old wire format.
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(req.method === 'HEAD' ? undefined : page);
}

function sendText(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end(body);
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE') reject(new Error(`port ${port} is in use: pass --port N or stop the other process`));
      else if (error.code === 'EACCES') reject(new Error(`no permission to listen on port ${port}: pass --port N above 1023`));
      else reject(new Error(`viewer cannot listen on ${host}:${port}: ${error.message}`));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

function sendEvent(client: WebSocket, event: ViewerEvent): void {
  if (client.readyState === WebSocket.OPEN) client.send(JSON.stringify(event));
}

/** Events are small and rare, so they go out even to clients that are skipping frames. */
function broadcastEvent(sockets: WebSocketServer, event: ViewerEvent): void {
  const text = JSON.stringify(event);
  for (const client of sockets.clients) if (client.readyState === WebSocket.OPEN) client.send(text);
}

/** Asks every client to close, and cuts off those (a stalled tab) that do not answer in time. */
async function closeClients(sockets: WebSocketServer): Promise<void> {
  const clients = [...sockets.clients];
  await Promise.all(
    clients.map(
      (client) =>
        new Promise<void>((resolve) => {
          if (client.readyState === WebSocket.CLOSED) return resolve();
          const timer = setTimeout(() => client.terminate(), CLOSE_GRACE_MS);
          client.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          client.close(1001, 'server shutting down');
        }),
    ),
  );
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** A host as it appears in a URL: a wildcard bind is reached through loopback. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
