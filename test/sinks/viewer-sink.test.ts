/**
 * The viewer sink over real sockets: a `ws` client for what a page sees, a raw TCP client that
 * stops reading for a stalled tab, and plain HTTP requests for the static page.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, type RawData } from 'ws';
import type { FramePacket, PanopticFrame, Segment } from '../../pipeline/frame.ts';
import { createMemoryLogger } from '../../pipeline/log.ts';
import { PipelineMetrics } from '../../pipeline/metrics.ts';
import type { GraphContext } from '../../pipeline/node.ts';
import {
  createViewerSink,
  viewerSink,
  type FrameHeader,
  type ViewerEvent,
  type ViewerSink,
} from '../../nodes/sinks/viewer-sink.ts';

const WIDTH = 320;
const HEIGHT = 180;
/** The red rectangle of the synthetic frame, `[x, y, width, height]`. */
const RED_RECT = [100, 50, 100, 80] as const;

type Received = { kind: 'event'; event: ViewerEvent } | { kind: 'frame'; header: FrameHeader; jpeg: Buffer };

/** Records every message of a client, so none is missed between two awaits. */
class Inbox {
  readonly received: Received[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      this.received.push(isBinary ? decodeFrame(toBuffer(data)) : { kind: 'event', event: JSON.parse(toBuffer(data).toString('utf8')) as ViewerEvent });
      for (const wake of this.waiters) wake();
    });
  }

  frames(): { header: FrameHeader; jpeg: Buffer }[] {
    return this.received.flatMap((message) => (message.kind === 'frame' ? [message] : []));
  }

  events(): ViewerEvent[] {
    return this.received.flatMap((message) => (message.kind === 'event' ? [message.event] : []));
  }

  /** Resolves with the first message, received so far or later, that `match` accepts. */
  async next<T extends Received>(match: (message: Received) => message is T, timeoutMs = 5000): Promise<T> {
    await this.until(() => this.received.some(match), timeoutMs);
    return this.received.find(match)!;
  }

  /** Resolves once `condition` holds, checking again after every message. */
  async until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`condition not met in ${timeoutMs} ms; got ${JSON.stringify(this.received.map(summary))}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }
}

function summary(message: Received): string {
  return message.kind === 'frame' ? `frame ${message.header.stream}#${message.header.seq}` : message.event.type;
}

const isFrame = (message: Received): message is Extract<Received, { kind: 'frame' }> => message.kind === 'frame';
const isEvent =
  <Type extends ViewerEvent['type']>(type: Type) =>
  (message: Received): message is { kind: 'event'; event: Extract<ViewerEvent, { type: Type }> } =>
    message.kind === 'event' && message.event.type === type;

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Splits a binary message into its JSON header and JPEG, as the page does. */
function decodeFrame(message: Buffer): Extract<Received, { kind: 'frame' }> {
  const headerLength = message.readUInt32BE(0);
  const header = JSON.parse(message.subarray(4, 4 + headerLength).toString('utf8')) as FrameHeader;
  return { kind: 'frame', header, jpeg: message.subarray(4 + headerLength) };
}

function testContext(): GraphContext & { metrics: PipelineMetrics } {
  return {
    log: createMemoryLogger(),
    metrics: new PipelineMetrics(),
    dataDir: '/nonexistent',
    signal: new AbortController().signal,
    executionProviders: ['cpu'],
    streams: [],
    shared: () => Promise.reject(new Error('not used by the viewer')),
  };
}

/** A grey frame with a red rectangle, as RGB24. */
function syntheticRgb(): Uint8Array {
  const rgb = new Uint8Array(WIDTH * HEIGHT * 3).fill(128);
  const [rx, ry, rw, rh] = RED_RECT;
  for (let y = ry; y < ry + rh; y++) {
    for (let x = rx; x < rx + rw; x++) rgb.set([220, 20, 20], (y * WIDTH + x) * 3);
  }
  return rgb;
}

function segment(id: number, className: string, isThing: boolean, bbox: Segment['bbox'], score: number, trackId?: number): Segment {
  const base = { id, classId: id, className, isThing, area: bbox[2] * bbox[3], bbox, score };
  return trackId === undefined ? base : { ...base, trackId, trackState: 'confirmed' };
}

const SEGMENTS: readonly Segment[] = [
  segment(1, 'road', false, [0, 120, WIDTH, 60], 1),
  segment(2, 'car', true, RED_RECT, 0.87, 3),
  segment(3, 'person', true, [20, 40, 30, 70], 0.65),
  segment(4, 'car', true, [240, 90, 50, 30], 0.71),
];

function panoptic(): PanopticFrame {
  return {
    width: WIDTH,
    height: HEIGHT,
    classMap: new Uint8Array(WIDTH * HEIGHT),
    segmentMap: new Uint32Array(WIDTH * HEIGHT),
    segments: SEGMENTS,
    classNames: ['road', 'car', 'person'],
  };
}

function packet(stream: string, seq: number, jpeg: Buffer, rgb: Uint8Array, overlayWidth = WIDTH, overlayHeight = HEIGHT): FramePacket {
  return {
    frame: { stream, seq, ptsMs: seq * 40, width: WIDTH, height: HEIGHT, data: rgb, capturedAtMs: Date.now() - 30 },
    timings: {},
    panoptic: panoptic(),
    overlay: { jpeg, width: overlayWidth, height: overlayHeight },
    leases: [],
  };
}

/** Opens a `ws` client and starts recording before the server's first message can arrive. */
async function openClient(sink: ViewerSink): Promise<{ socket: WebSocket; inbox: Inbox }> {
  const socket = new WebSocket(`${sink.url.replace('http', 'ws')}/ws`);
  const inbox = new Inbox(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return { socket, inbox };
}

/** A WebSocket client that completes the handshake and then never reads: a stalled tab. */
async function openStalledClient(sink: ViewerSink): Promise<Socket> {
  const { hostname, port } = new URL(sink.url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  socket.write(
    [
      'GET /ws HTTP/1.1',
      `Host: ${hostname}:${port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
      '',
      '',
    ].join('\r\n'),
  );
  const response = await new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1'))));
  expect(response).toMatch(/^HTTP\/1\.1 101 /);
  // Node stops reading from the kernel: its receive buffer fills, then the server's send
  // buffer, then the server's user-space queue, which is what the limit must cap.
  socket.pause();
  return socket;
}

function httpGet(url: string, path: string, method = 'GET'): Promise<{ status: number; type: string | undefined; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    // `request` sends the path as written; fetch would normalise away `..` before sending.
    const req = request({ host: hostname, port, path, method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

let jpeg: Buffer;
let rgb: Uint8Array;
const sinks: ViewerSink[] = [];
/** Client sockets to cut when a test ends, whatever state it left them in. */
const sockets: (WebSocket | Socket)[] = [];

async function startSink(ctx = testContext(), options: Record<string, unknown> = {}): Promise<ViewerSink> {
  const sink = await createViewerSink(viewerSink.options.parse({ port: 0, ...options }), ctx);
  sinks.push(sink);
  return sink;
}

beforeAll(async () => {
  rgb = syntheticRgb();
  jpeg = await sharp(rgb, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
});

afterEach(async () => {
  for (const socket of sockets.splice(0)) {
    if (socket instanceof WebSocket) socket.terminate();
    else socket.destroy();
  }
  await Promise.all(sinks.splice(0).map((sink) => sink.close()));
});

describe('viewer sink options', () => {
  it('defaults to loopback, port 8080 and a 2 MB per-client buffer', () => {
    expect(viewerSink.type).toBe('viewer');
    expect(viewerSink.kind).toBe('sink');
    expect(viewerSink.options.parse({})).toEqual({ host: '127.0.0.1', port: 8080, maxBufferedBytes: 2_000_000 });
  });

  it('rejects a port out of range', () => {
    expect(() => viewerSink.options.parse({ port: 70000 })).toThrow();
  });
});

describe('viewer sink', () => {
  it('binds 127.0.0.1 by default, logs its url, and is not reachable on other interfaces', async () => {
    const ctx = testContext();
    const sink = await startSink(ctx);
    expect(sink.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((ctx.log as ReturnType<typeof createMemoryLogger>).lines.join('\n')).toContain(`viewer on ${sink.url}`);

    const external = Object.values(networkInterfaces())
      .flat()
      .find((address) => address && address.family === 'IPv4' && !address.internal);
    if (external) {
      const { port } = new URL(sink.url);
      await expect(httpGet(`http://${external.address}:${port}`, '/')).rejects.toThrow(/ECONNREFUSED/);
    }
  });

  it('fails with a clear message when the port is taken', async () => {
    const first = await startSink();
    const port = Number(new URL(first.url).port);
    await expect(startSink(testContext(), { port })).rejects.toThrow(`port ${port} is in use: pass --port N or stop the other process`);
  });

  it('greets a client, then sends each frame as header + JPEG with counts and thing segments', async () => {
    const sink = await startSink();
    const { socket, inbox } = await openClient(sink);
    sockets.push(socket);
    const hello = await inbox.next(isEvent('hello'));
    expect(hello.event).toEqual({ type: 'hello', server: 'panoptes', streams: [] });

    const before = Date.now();
    sink.write(packet('front-door', 7, jpeg, rgb));
    const { header, jpeg: received } = await inbox.next(isFrame);

    expect(inbox.received[0]).toBe(hello);
    expect(received[0]).toBe(0xff);
    expect(received[1]).toBe(0xd8);
    expect(received.equals(jpeg)).toBe(true);
    expect(header).toMatchObject({ type: 'frame', stream: 'front-door', seq: 7, ptsMs: 280, width: WIDTH, height: HEIGHT });
    expect(header.sentAtMs).toBeGreaterThanOrEqual(before);
    expect(header.capturedAtMs).toBeLessThanOrEqual(header.sentAtMs);
    expect(header.counts).toEqual({ car: 2, person: 1 });
    expect(header.segments).toEqual([
      { id: 2, className: 'car', bbox: [...RED_RECT], score: 0.87, trackId: 3 },
      { id: 3, className: 'person', bbox: [20, 40, 30, 70], score: 0.65 },
      { id: 4, className: 'car', bbox: [240, 90, 50, 30], score: 0.71 },
    ]);
  });

  it('scales boxes to the JPEG when the overlay is smaller than the frame', async () => {
    const sink = await startSink();
    const { socket, inbox } = await openClient(sink);
    sockets.push(socket);
    sink.write(packet('front-door', 0, jpeg, rgb, WIDTH / 2, HEIGHT / 2));
    const { header } = await inbox.next(isFrame);
    expect(header.segments[0]!.bbox).toEqual([50, 25, 50, 40]);
  });

  it('sends nothing for packets without an overlay', async () => {
    const sink = await startSink();
    const { socket, inbox } = await openClient(sink);
    sockets.push(socket);
    const { overlay: _, ...bare } = packet('front-door', 0, jpeg, rgb);
    sink.write(bare);
    sink.write(packet('front-door', 1, jpeg, rgb));
    const { header } = await inbox.next(isFrame);
    expect(header.seq).toBe(1);
  });

  it('greets a late client with the streams seen so far and their newest frame', async () => {
    const sink = await startSink();
    sink.write(packet('front-door', 1, jpeg, rgb));
    sink.write(packet('garage', 1, jpeg, rgb));
    sink.write(packet('front-door', 2, jpeg, rgb));
    const { socket, inbox } = await openClient(sink);
    sockets.push(socket);
    expect((await inbox.next(isEvent('hello'))).event.streams).toEqual(['front-door', 'garage']);
    await inbox.until(() => inbox.frames().length === 2);
    expect(inbox.frames().map((f) => `${f.header.stream}#${f.header.seq}`)).toEqual(['front-door#2', 'garage#1']);
  });

  it('sends stats every 500 ms and tells clients when a stream ends', async () => {
    const ctx = testContext();
    const sink = await startSink(ctx);
    const { socket, inbox } = await openClient(sink);
    sockets.push(socket);
    ctx.metrics.decoded('front-door');
    ctx.metrics.processed('front-door', Date.now() - 25, { 'semantic-segmentation': 12 });
    ctx.metrics.drop('front-door', 'source');

    const stats = await inbox.next(isEvent('stats'), 2000);
    expect(stats.event.streams).toEqual([expect.objectContaining({ stream: 'front-door', decoded: 1, processed: 1, dropped: 1, drops: { source: 1 } })]);
    await sleep(1100);
    expect(inbox.events().filter((event) => event.type === 'stats').length).toBeGreaterThanOrEqual(2);

    sink.streamEnded?.('front-door');
    sink.streamEnded?.('garage', new Error('camera unplugged'));
    await inbox.until(() => inbox.events().filter((event) => event.type === 'ended').length === 2);
    expect(inbox.events().filter((event) => event.type === 'ended')).toEqual([
      { type: 'ended', stream: 'front-door' },
      { type: 'ended', stream: 'garage', error: 'camera unplugged' },
    ]);
  });

  it('answers any client message with an error and keeps the connection open', async () => {
    const sink = await startSink();
    const { socket, inbox } = await openClient(sink);
    sockets.push(socket);
    socket.send('{{ not json');
    socket.send(Buffer.from([0, 1, 2, 3]));
    const reply = await inbox.next(isEvent('error'));
    expect(reply.event).toEqual({ type: 'error', message: 'this server accepts no messages yet' });

    sink.write(packet('front-door', 1, jpeg, rgb));
    await inbox.next(isFrame);
    expect(inbox.events().filter((event) => event.type === 'error')).toHaveLength(2);
    expect(socket.readyState).toBe(WebSocket.OPEN);
  });

  it('closes a client that sends more than 64 KiB in one message', async () => {
    const sink = await startSink();
    const { socket } = await openClient(sink);
    sockets.push(socket);
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send(Buffer.alloc(65 * 1024));
    expect(await closed).toBe(1009);
  });

  it('skips frames for a client that stopped reading, without slowing the writer or another client', async () => {
    const ctx = testContext();
    const maxBufferedBytes = 256 * 1024;
    const sink = await startSink(ctx, { maxBufferedBytes });
    // Noise barely compresses: big frames fill the socket buffers in few writes.
    const noisyJpeg = await sharp(randomBytes(640 * 480 * 3), { raw: { width: 640, height: 480, channels: 3 } })
      .jpeg({ quality: 95 })
      .toBuffer();
    const stalled = await openStalledClient(sink);
    sockets.push(stalled);
    const { socket, inbox } = await openClient(sink);
    sockets.push(socket);
    await inbox.next(isEvent('hello'));

    const viewerDrops = () => ctx.metrics.snapshot().find((stats) => stats.stream === 'front-door')?.drops.viewer ?? 0;
    let seq = 0;
    let slowestWriteMs = 0;
    const write = () => {
      const started = performance.now();
      sink.write(packet('front-door', seq++, noisyJpeg, rgb, 640, 480));
      slowestWriteMs = Math.max(slowestWriteMs, performance.now() - started);
    };

    // Loopback buffers hold several MB before the server's own queue grows; keep writing until
    // the stalled client has passed the limit. The reading client drains between writes.
    while (viewerDrops() === 0) {
      expect(seq, 'the stalled client never passed the limit').toBeLessThan(2000);
      write();
      await nextTurn();
    }

    const dropsBefore = viewerDrops();
    const framesBefore = inbox.frames().length;
    const extra = 20;
    for (let i = 0; i < extra; i++) {
      write();
      await sleep(5);
    }
    const lastSeq = seq - 1;
    await inbox.until(() => inbox.frames().some((frame) => frame.header.seq === lastSeq));

    // The stalled client skipped every new frame; the reading one received them.
    expect(viewerDrops() - dropsBefore).toBeGreaterThanOrEqual(extra);
    expect(inbox.frames().length - framesBefore).toBeGreaterThanOrEqual(extra * 0.75);
    // write() only queues bytes: a stalled client never makes it wait.
    expect(slowestWriteMs).toBeLessThan(50);
    expect(socket.readyState).toBe(WebSocket.OPEN);
  });

  it('close() disconnects clients, including stalled ones, and frees the port', async () => {
    const sink = await startSink();
    const stalled = await openStalledClient(sink);
    sockets.push(stalled);
    const { socket } = await openClient(sink);
    sockets.push(socket);
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    const port = Number(new URL(sink.url).port);

    const started = Date.now();
    await sinks.splice(sinks.indexOf(sink), 1)[0]!.close();
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await closed).toBe(1001);
    // The port is free again: a restarted viewer can take it.
    const again = await startSink(testContext(), { port });
    expect(again.url).toBe(sink.url);
  });
});

describe('viewer page serving', () => {
  it('serves the page at / and /index.html as HTML', async () => {
    const sink = await startSink();
    for (const path of ['/', '/index.html', '/?stream=front-door']) {
      const response = await httpGet(sink.url, path);
      expect(response.status, path).toBe(200);
      expect(response.type).toBe('text/html; charset=utf-8');
      expect(response.body).toContain('<canvas');
      expect(response.body).toContain('__panoptes');
    }
  });

  it('answers 404 for every other path, traversal attempts included', async () => {
    const sink = await startSink();
    for (const path of ['/ws', '/favicon.ico', '/viewer/index.html', '/../package.json', '/%2e%2e/package.json', '/..%2f..%2fpackage.json', '//etc/passwd']) {
      expect((await httpGet(sink.url, path)).status, path).toBe(404);
    }
  });

  it('answers 405 to methods other than GET and HEAD', async () => {
    const sink = await startSink();
    expect((await httpGet(sink.url, '/', 'POST')).status).toBe(405);
    const head = await httpGet(sink.url, '/', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });
});
