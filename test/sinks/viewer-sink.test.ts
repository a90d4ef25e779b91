/**
 * The viewer protocol (docs/protocol.md) over real sockets: subscriptions and topic filtering,
 * malformed and oversized messages, tokens and origins, raw frames with segment maps, and
 * clients that cannot keep up.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, type RawData } from 'ws';
import type { DensityEstimate, FramePacket, PanopticFrame, Segment } from '../../pipeline/frame.ts';
import type { LineEvent } from '../../pipeline/analytics-types.ts';
import { densityBand } from '../../nodes/heads/crowd-density.ts';
import { readBinaryMessage } from '../../nodes/sinks/viewer/frame-messages.ts';
import type { BinaryHeader, DensityHeader, FramesHeader, ServerEvent, SnapshotHeader, VideoHeader } from '../../servers/viewer-protocol/protocol.ts';
import { createViewerSink, viewerSink, type ViewerSink } from '../../nodes/sinks/viewer/viewer-sink.ts';
import { graphContext } from '../helpers/data-dir.ts';
import { fromXywh, type XywhBox } from '../../lib/geometry/box.ts';
import { testClassSet } from '../helpers/panoptic.ts';

const WIDTH = 320;
const HEIGHT = 180;
/** The red rectangle of the synthetic frame, `[x, y, width, height]`. */
const RED_RECT = [100, 50, 100, 80] as const;

type Received =
  | { kind: 'event'; event: ServerEvent | { type: 'counts'; stream: string; seq: number } }
  | { kind: 'binary'; header: BinaryHeader; payload: Buffer };

/** Records every message of a client, so none is missed between two awaits. */
class Inbox {
  readonly received: Received[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      const buffer = toBuffer(data);
      this.received.push(isBinary ? { kind: 'binary', ...readBinaryMessage<BinaryHeader>(buffer) } : { kind: 'event', event: JSON.parse(buffer.toString('utf8')) });
      for (const wake of this.waiters) wake();
    });
  }

  binary<T extends BinaryHeader = VideoHeader | FramesHeader | DensityHeader>(type: T['type']): { header: T; payload: Buffer }[] {
    return this.received.flatMap((m) => (m.kind === 'binary' && m.header.type === type ? [{ header: m.header as T, payload: m.payload }] : []));
  }

  events<T extends string>(type: T): Extract<Received, { kind: 'event' }>['event'][] {
    return this.received.flatMap((m) => (m.kind === 'event' && m.event.type === type ? [m.event] : []));
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
      if (left <= 0) throw new Error(`condition not met in ${timeoutMs} ms; got ${this.received.length} messages`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(left, 50));
        this.waiters.add(wake);
      });
    }
  }
}

const isEvent =
  (type: string) =>
  (message: Received): message is Extract<Received, { kind: 'event' }> =>
    message.kind === 'event' && message.event.type === type;

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

const testContext = (streams: readonly string[] = ['front', 'back']) => graphContext(streams);

/** A grey frame with a red rectangle, as RGB24. */
function syntheticRgb(): Uint8Array {
  const rgb = new Uint8Array(WIDTH * HEIGHT * 3).fill(128);
  const [rx, ry, rw, rh] = RED_RECT;
  for (let y = ry; y < ry + rh; y++) {
    for (let x = rx; x < rx + rw; x++) rgb.set([220, 20, 20], (y * WIDTH + x) * 3);
  }
  return rgb;
}

/** A segment given by its `[x, y, width, height]`; the map is all void, so it owns no pixels. */
function segment(id: number, className: string, isThing: boolean, [x, y, w, h]: XywhBox, score: number, trackId?: number): Segment {
  const base = { id, classId: id, className, isThing, area: w * h, bbox: fromXywh(x, y, w, h), score, runs: new Uint32Array(0) };
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
    classes: testClassSet(['road', 'car', 'person'], ['car', 'person']),
  };
}

function packet(stream: string, seq: number, extra: Partial<FramePacket> = {}): FramePacket {
  return {
    frame: { stream, seq, ptsMs: seq * 40, width: WIDTH, height: HEIGHT, data: rgb, capturedAtMs: Date.now() - 30 },
    timings: {},
    panoptic: panoptic(),
    overlay: { jpeg, width: WIDTH, height: HEIGHT },
    leases: [],
    ...extra,
  };
}

/** Opens a `ws` client and starts recording before the server's first message can arrive. */
async function openClient(sink: ViewerSink, subscribe?: object): Promise<{ socket: WebSocket; inbox: Inbox }> {
  const socket = new WebSocket(`${sink.url.replace('http', 'ws')}/ws`);
  sockets.push(socket);
  const inbox = new Inbox(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  if (subscribe) {
    socket.send(JSON.stringify({ type: 'subscribe', ...subscribe }));
    await inbox.next(isEvent('subscribed'));
  }
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

const WS = (sink: ViewerSink) => `${sink.url.replace('http', 'ws')}/ws`;

/** Resolves with the HTTP status an upgrade got, or 101 when the WebSocket opened. */
function upgradeStatus(url: string, options: { headers?: Record<string, string> } = {}): Promise<number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, options);
    sockets.push(socket);
    socket.once('open', () => resolve(101));
    socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
    socket.once('error', () => {});
  });
}

describe('viewer sink: setup and the page', () => {
  it('defaults to loopback and port 8080, with bounded queues', () => {
    expect(viewerSink.options.parse({})).toMatchObject({ host: '127.0.0.1', port: 8080, maxQueuedBytes: 8_000_000 });
  });

  it('refuses to bind another interface without a token, saying how to fix it', async () => {
    await expect(createViewerSink(viewerSink.options.parse({ host: '0.0.0.0', port: 0 }), testContext())).rejects.toThrow(
      /viewer: binding 0\.0\.0\.0 .* needs a token: set the viewer sink's token option .* or bind 127\.0\.0\.1/,
    );
  });

  it('fails with a clear message when the port is taken', async () => {
    const first = await startSink();
    const port = Number(new URL(first.url).port);
    await expect(startSink(testContext(), { port })).rejects.toThrow(`port ${port} is in use`);
  });

  it('serves the page, 404 elsewhere, 405 for other methods', async () => {
    const sink = await startSink();
    const page = await httpGet(sink.url, '/');
    expect(page.status).toBe(200);
    expect(page.type).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<title>');
    expect((await httpGet(sink.url, '/../package.json')).status).toBe(404);
    expect((await httpGet(sink.url, '/', 'POST')).status).toBe(405);
  });

  it('serves the page\'s script, bundled from viewer/app.ts, and passes a token in the page\'s address on to it', async () => {
    const open = await startSink();
    const script = await httpGet(open.url, '/app.js');
    expect(script.status).toBe(200);
    expect(script.type).toBe('text/javascript; charset=utf-8');
    // One module with the protocol's constants in it: nothing left to fetch, no TypeScript left.
    expect(script.body).toContain('PROTOCOL_VERSION = 1');
    expect(script.body).not.toMatch(/^\s*import\s/m);
    expect((await httpGet(open.url, '/')).body).toContain('<script type="module" src="app.js"></script>');

    const token = 'correct-horse-battery';
    const guarded = await startSink(testContext(), { token });
    expect((await httpGet(guarded.url, `/?token=${token}`)).body).toContain(`<script type="module" src="app.js?token=${token}"></script>`);
    expect((await httpGet(guarded.url, `/app.js?token=${token}`)).status).toBe(200);
    expect((await httpGet(guarded.url, '/app.js')).status).toBe(401);
  });
});

describe('viewer protocol', () => {
  it('says hello, then sends nothing until the client subscribes', async () => {
    const sink = await startSink();
    const { inbox } = await openClient(sink);
    const hello = (await inbox.next(isEvent('hello'))).event;
    expect(hello).toMatchObject({ server: 'panoptes', protocol: 1, streams: ['front', 'back'], topics: ['video', 'frames', 'events', 'snapshots', 'counts', 'stats', 'density'] });
    sink.write(packet('front', 1));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(inbox.received.map((m) => (m.kind === 'event' ? m.event.type : m.header.type))).toEqual(['hello']);
  });

  it('sends a subscribed stream\'s video only, with header, counts and JPEG, and stops after unsubscribe', async () => {
    const sink = await startSink();
    const { socket, inbox } = await openClient(sink, { streams: ['front'], topics: ['video'] });
    sink.write(packet('back', 1));
    sink.write(packet('front', 2));
    await inbox.until(() => inbox.binary('video').length === 1);
    const [{ header, payload }] = inbox.binary<VideoHeader>('video');
    expect(header).toMatchObject({ type: 'video', stream: 'front', seq: 2, width: WIDTH, height: HEIGHT, counts: { car: 2, person: 1 } });
    expect(header.sentAtMs).toBeGreaterThanOrEqual(header.capturedAtMs);
    expect(payload.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    socket.send(JSON.stringify({ type: 'unsubscribe', topics: ['video'] }));
    await inbox.until(() => inbox.events('subscribed').length === 2);
    expect(inbox.events('subscribed')[1]).toEqual({ type: 'subscribed', subscriptions: [] });
    sink.write(packet('front', 3));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(inbox.binary('video').map((v) => v.header.seq)).toEqual([2]);
  });

  it('gives a new subscriber the newest frame at once', async () => {
    const sink = await startSink();
    const watcher = await openClient(sink, { topics: ['counts'] });
    sink.write(packet('front', 7));
    await watcher.inbox.until(() => watcher.inbox.events('counts').length === 1);
    const { inbox } = await openClient(sink, { topics: ['video'] });
    await inbox.until(() => inbox.binary('video').length === 1);
    expect(inbox.binary('video')[0]!.header.seq).toBe(7);
  });

  it('sends the density map once per estimate, and the newest one to a client that subscribes later', async () => {
    const sink = await startSink();
    const { inbox } = await openClient(sink, { topics: ['density', 'counts'] });
    const estimate = (seq: number, count: number): DensityEstimate => ({
      model: 'mcnn-shanghaitech-a',
      count,
      scale: 1,
      expectedError: 0.26,
      ...densityBand(count, 0.26),
      map: Float32Array.from([0, count / 2, 0, count / 2]),
      width: 2,
      height: 2,
      region: [0, 0.5, 1, 1],
      seq,
      ageMs: 0,
    });
    const first = estimate(0, 100);
    const second = estimate(3, 50);
    for (let seq = 0; seq < 6; seq++) {
      const density = seq < 3 ? first : second;
      sink.write(packet('front', seq, { density: { ...density, ageMs: (seq - density.seq) * 40 } }));
    }
    await inbox.until(() => inbox.events('counts').length === 6);
    const maps = inbox.binary<DensityHeader>('density');
    expect(maps.map((m) => m.header.seq)).toEqual([0, 3]);
    expect(maps[0]!.header).toMatchObject({ stream: 'front', count: 100, low: 74, high: 126, expectedError: 0.26, region: [0, 0.5, 1, 1], width: 2, height: 2, maxPerCell: 50 });
    expect([...maps[0]!.payload]).toEqual([0, 255, 0, 255]);
    // Every counts message carries the estimate with its band.
    expect((inbox.events('counts')[4] as unknown as { density: unknown }).density).toEqual({ count: 50, low: 37, high: 63, expectedError: 0.26, ageMs: 40 });
    const late = await openClient(sink, { topics: ['density'] });
    await late.inbox.until(() => late.inbox.binary('density').length === 1);
    expect(late.inbox.binary<DensityHeader>('density')[0]!.header.seq).toBe(3);
  });

  it('sends counts for every frame and events as they happen, to subscribers only', async () => {
    const sink = await startSink();
    const { inbox } = await openClient(sink, { topics: ['counts', 'events'] });
    const crossing: LineEvent = { id: 'crossing-3', type: 'line', stream: 'front', line: 'gate', trackId: 3, className: 'car', direction: 'in', ptsMs: 80 };
    for (let seq = 0; seq < 5; seq++) sink.write(packet('front', seq, seq === 2 ? { analytics: analytics([crossing]) } : {}));
    await inbox.until(() => inbox.events('counts').length === 5 && inbox.events('line').length === 1);
    expect(inbox.events('counts').map((c) => (c as { seq: number }).seq)).toEqual([0, 1, 2, 3, 4]);
    expect(inbox.events('line')[0]).toEqual(crossing);
    expect(inbox.binary('video')).toEqual([]);
  });

  it("sends each event's snapshot on the snapshots topic, only to clients that want it, cropped around the object", async () => {
    const sink = await startSink();
    const events = await openClient(sink, { topics: ['events'] });
    const both = await openClient(sink, { topics: ['events', 'snapshots'] });
    const crossing: LineEvent = { id: 'crossing-5', type: 'line', stream: 'front', line: 'gate', trackId: 5, className: 'car', direction: 'in', ptsMs: 80 };
    const car = { trackId: 5, state: 'confirmed' as const, classId: 0, className: 'car', bbox: [100, 60, 160, 100] as const, score: 0.9, ageMs: 400, hits: 9 };
    sink.write(packet('front', 2, { analytics: analytics([crossing]), tracks: [car] }));
    await both.inbox.until(() => both.inbox.binary<SnapshotHeader>('snapshot').length === 1);
    const [{ header, payload }] = both.inbox.binary<SnapshotHeader>('snapshot');
    expect(header).toEqual({ type: 'snapshot', stream: 'front', id: 'crossing-5' });
    // The box (60x40) with a margin of half its longer side (30 px) around it, inside the frame.
    const { width, height, format } = await sharp(payload).metadata();
    expect(format).toBe('jpeg');
    expect([width, height]).toEqual([Math.min(WIDTH, 190) - 70, Math.min(HEIGHT, 130) - 30]);
    expect(events.inbox.events('line')).toEqual([crossing]);
    expect(events.inbox.binary<SnapshotHeader>('snapshot')).toEqual([]);
  });

  it('answers malformed and unknown messages with an error and keeps the connection', async () => {
    const sink = await startSink();
    const { socket, inbox } = await openClient(sink);
    const sent = ['not json', '{"type":"dance"}', '{"type":"subscribe"}', '{"type":"subscribe","topics":["video"],"streams":["nowhere"]}', '{"type":"subscribe","topics":["smell"]}'];
    for (const text of sent) socket.send(text);
    socket.send(Buffer.from([1, 2, 3]));
    await inbox.until(() => inbox.events('error').length === 6);
    expect(inbox.events('error').map((e) => (e as { code: string }).code)).toEqual(['bad-json', 'unknown-type', 'bad-message', 'unknown-stream', 'unknown-topic', 'bad-message']);
    socket.send(JSON.stringify({ type: 'ping', id: 42 }));
    await inbox.until(() => inbox.events('pong').length === 1);
    expect(inbox.events('pong')[0]).toEqual({ type: 'pong', id: 42 });
  });

  it('closes a client that sends more than 64 KiB in one message', async () => {
    const sink = await startSink();
    const { socket } = await openClient(sink);
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send('x'.repeat(64 * 1024 + 1));
    expect(await closed).toBe(1009);
  });

  it('requires the token when one is set: 401 without it, accepted as ?token= or Bearer', async () => {
    const sink = await startSink(testContext(), { token: 'correct-horse-battery' });
    expect(await upgradeStatus(WS(sink))).toBe(401);
    expect(await upgradeStatus(`${WS(sink)}?token=wrong-wrong-wrong`)).toBe(401);
    expect(await upgradeStatus(`${WS(sink)}?token=correct-horse-battery`)).toBe(101);
    expect(await upgradeStatus(WS(sink), { headers: { Authorization: 'Bearer correct-horse-battery' } })).toBe(101);
  });

  it('refuses browsers from other origins, accepts its own page and allowed origins', async () => {
    const sink = await startSink(testContext(), { allowedOrigins: ['https://dash.example'] });
    const host = new URL(sink.url).host;
    expect(await upgradeStatus(WS(sink), { headers: { Origin: 'https://evil.example' } })).toBe(403);
    expect(await upgradeStatus(WS(sink), { headers: { Origin: `http://${host}` } })).toBe(101);
    expect(await upgradeStatus(WS(sink), { headers: { Origin: 'https://dash.example' } })).toBe(101);
  });

  it('refuses a request whose Host is not a loopback name (DNS rebinding), or one the sink names, token or not', async () => {
    const open = await startSink();
    expect(await upgradeStatus(WS(open), { headers: { Host: 'cameras.evil.example' } })).toBe(403);
    expect(await upgradeStatus(WS(open), { headers: { Host: 'localhost' } })).toBe(101);
    const guarded = await startSink(testContext(), { token: 'correct-horse-battery', allowedHosts: ['cameras.example'] });
    expect(await upgradeStatus(`${WS(guarded)}?token=correct-horse-battery`, { headers: { Host: 'cameras.example' } })).toBe(101);
    expect(await upgradeStatus(`${WS(guarded)}?token=correct-horse-battery`, { headers: { Host: 'cameras.evil.example' } })).toBe(403);
  });

  it('sends raw frames with the segment map as a PNG whose pixels are segment ids', async () => {
    const sink = await startSink();
    const { inbox } = await openClient(sink, { topics: ['frames'] });
    const map = new Uint32Array(WIDTH * HEIGHT);
    const [rx, ry, rw, rh] = RED_RECT;
    for (let y = ry; y < ry + rh; y++) map.fill(2, y * WIDTH + rx, y * WIDTH + rx + rw);
    sink.write(packet('front', 4, { panoptic: { ...panoptic(), segmentMap: map } }));
    await inbox.until(() => inbox.binary('frames').length === 1);
    const { header, payload } = inbox.binary<FramesHeader>('frames')[0]!;
    expect(header).toMatchObject({ stream: 'front', seq: 4, width: WIDTH, height: HEIGHT, classNames: ['road', 'car', 'person'] });
    expect(header.segments).toHaveLength(SEGMENTS.length);
    expect(payload.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    const png = payload.subarray(header.jpegBytes, header.jpegBytes + header.maskBytes);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(3);
    const idAt = (x: number, y: number) => data[(y * WIDTH + x) * 3]! + 256 * data[(y * WIDTH + x) * 3 + 1]!;
    expect(idAt(rx + 10, ry + 10)).toBe(2);
    expect(idAt(5, 5)).toBe(0);
  });
});

describe('a client that cannot keep up', () => {
  it('costs the others nothing, drops its own frames, and gets every event when it reads again', async () => {
    const ctx = testContext();
    const sink = await startSink(ctx, { inFlightBytes: 200_000 });
    const slow = await openClient(sink, { topics: ['video', 'events', 'counts'] });
    const reader = await openClient(sink, { topics: ['video'] });
    slow.socket.pause();
    const crossings: LineEvent[] = [];
    // Big frames (as at 1080p), so that the kernel's socket buffers fill after a few and the
    // server's own policy has to act.
    const heavy = Buffer.concat([jpeg, randomBytes(150_000)]);
    // 300 frames; each write returns at once, whatever the slow client does.
    for (let seq = 0; seq < 300; seq++) {
      const events: LineEvent[] = seq % 10 === 0 ? [{ id: `crossing-${seq}`, type: 'line', stream: 'front', line: 'gate', trackId: seq, className: 'car', direction: 'in', ptsMs: seq * 40 }] : [];
      crossings.push(...events);
      sink.write(packet('front', seq, { analytics: analytics(events), overlay: { jpeg: heavy, width: WIDTH, height: HEIGHT } }));
      if (seq % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    // The reader keeps up and ends on the newest frame.
    await reader.inbox.until(() => reader.inbox.binary('video').some((v) => v.header.seq === 299));
    // The server holds at most one waiting frame for the slow client, plus its events.
    expect(sink.waitingBytes()).toBeLessThan(heavy.length + 200_000);
    expect(ctx.metrics.snapshot().find((s) => s.stream === 'front')?.skipped.viewer).toBeGreaterThan(100);
    // Each replaced frame counted once, by the queue and in the metrics; the events and counts
    // waiting are far under the disconnect limit, and nothing failed.
    const backlog = sink.backlog();
    expect(backlog.dropped).toBe(ctx.metrics.snapshot().find((s) => s.stream === 'front')?.skipped.viewer);
    expect(backlog.losslessBytes).toBeLessThan(8_000_000);
    // One frame (JPEG and its header) waiting per client at most.
    expect(backlog.queuedBytes - backlog.losslessBytes).toBeLessThanOrEqual(2 * (heavy.length + 2000));
    expect(backlog.errors).toBe(0);
    slow.socket.resume();
    await slow.inbox.until(() => slow.inbox.events('counts').length === 300, 10_000);
    expect(slow.inbox.events('line')).toEqual(crossings);
    expect(slow.inbox.events('counts').map((c) => (c as { seq: number }).seq)).toEqual([...Array(300).keys()]);
    // It skipped frames, and ends on the newest one too.
    await slow.inbox.until(() => slow.inbox.binary('video').some((v) => v.header.seq === 299));
    expect(slow.inbox.binary('video').length).toBeLessThan(300);
  });

  it('disconnects a client stuck past the limit, with the reason', async () => {
    const sink = await startSink(testContext(), { stuckTimeoutMs: 300, maxQueuedBytes: 200_000 });
    const stalled = await openStalledClient(sink);
    sockets.push(stalled);
    stalled.resume();
    const frames: Buffer[] = [];
    stalled.on('data', (chunk: Buffer) => frames.push(chunk));
    stalled.pause();
    const subscribe = Buffer.from(JSON.stringify({ type: 'subscribe', topics: ['video', 'counts'] }));
    stalled.write(maskedTextFrame(subscribe));
    for (let seq = 0; seq < 400; seq++) {
      sink.write(packet('front', seq));
      if (seq % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await new Promise((resolve) => setTimeout(resolve, 800));
    sink.write(packet('front', 400));
    // Gone from the server: nothing waits for it any more.
    expect(sink.waitingBytes()).toBe(0);
  });
});

/** A client-to-server text frame (clients must mask). */
function maskedTextFrame(payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const header = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length]) : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 255]);
  const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([header, mask, body]);
}

function analytics(events: LineEvent[]): NonNullable<FramePacket['analytics']> {
  return { counts: { car: 1 }, coverage: {}, unique: { car: 1 }, lines: [], zones: [], events, crowd: { persons: 0 } };
}
