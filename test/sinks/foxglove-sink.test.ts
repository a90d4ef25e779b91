/**
 * The Foxglove sink over real sockets, seen through `@foxglove/ws-protocol`'s own
 * `FoxgloveClient` on a `ws` WebSocket: what Foxglove's app would receive.
 */
import { randomBytes } from 'node:crypto';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type { Channel, MessageData, ServerInfo, StatusMessage } from '@foxglove/ws-protocol';
import foxglove from '@foxglove/ws-protocol';
import { PointsAnnotationType, type ImageAnnotations } from '@foxglove/schemas';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ConfigError } from '../../pipeline/config/validation.ts';
import type { DensityEstimate, FrameAnalytics, FramePacket, PanopticFrame, TrackedObject } from '../../pipeline/frame.ts';
import { densityBand } from '../../nodes/heads/crowd-density.ts';
import { createFoxgloveSink, foxgloveSink, type FoxgloveSink } from '../../nodes/sinks/foxglove/foxglove-sink.ts';
import type { CompressedImageJson } from '../../nodes/sinks/foxglove/image-message.ts';
import type { CountsMessage } from '../../nodes/sinks/foxglove/counts-message.ts';
import { MAX_STATUSES_PER_REQUEST, MAX_STATUSES_PER_SECOND } from '../../nodes/sinks/foxglove/client-session.ts';
import { segmentOutlines, type Point } from '../../nodes/sinks/foxglove/segment-outline.ts';
import { graphContext } from '../helpers/data-dir.ts';
import { testClassSet, withRuns } from '../helpers/panoptic.ts';

const { FoxgloveClient } = foxglove;
type FoxgloveClient = InstanceType<typeof FoxgloveClient>;

const WIDTH = 320;
const HEIGHT = 180;
/** The car: a filled rectangle `[x, y, width, height]` of segment 2, tracked as #12. */
const CAR = [100, 50, 100, 80] as const;
const CAR_SEGMENT = 2;
const CAR_TRACK = 12;
/** Capture time of frame 0; frame n is captured 40 ms later per frame. */
const EPOCH_MS = 1_700_000_000_123;
const CLASS_NAMES = ['road', 'car'] as const;

/** Everything one client receives, recorded from the moment it is created. */
class Recorder {
  readonly client: FoxgloveClient;
  serverInfo: ServerInfo | undefined;
  readonly channels: Channel[] = [];
  readonly statuses: StatusMessage[] = [];
  readonly messages: MessageData[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(readonly socket: WebSocket) {
    // The library's IWebSocket is the browser WebSocket shape, which `ws` implements.
    this.client = new FoxgloveClient({ ws: socket as unknown as ConstructorParameters<typeof FoxgloveClient>[0]['ws'] });
    this.client.on('serverInfo', (info) => this.record(() => (this.serverInfo = info)));
    this.client.on('advertise', (channels) => this.record(() => this.channels.push(...channels)));
    this.client.on('status', (status) => this.record(() => this.statuses.push(status)));
    this.client.on('message', (message) => this.record(() => this.messages.push(message)));
  }

  private record(apply: () => void): void {
    apply();
    for (const wake of this.waiters) wake();
  }

  channel(topic: string): Channel {
    const channel = this.channels.find((c) => c.topic === topic);
    if (!channel) throw new Error(`no channel ${topic}; advertised ${this.channels.map((c) => c.topic).join(', ')}`);
    return channel;
  }

  /** Decoded JSON payloads received on subscription `id`, in order. */
  payloads<T>(id: number): T[] {
    return this.messages.filter((m) => m.subscriptionId === id).map((m) => JSON.parse(new TextDecoder().decode(m.data)) as T);
  }

  async until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
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

const testContext = (streams: readonly string[] = ['cam']) => graphContext(streams);

/** A panoptic frame: road everywhere but the car rectangle, moved `dx` pixels to the right. */
function panopticFrame(dx: number): PanopticFrame {
  const segmentMap = new Uint32Array(WIDTH * HEIGHT).fill(1);
  const classMap = new Uint8Array(WIDTH * HEIGHT).fill(0);
  const [x, y, w, h] = CAR;
  for (let row = y; row < y + h; row++) {
    segmentMap.fill(CAR_SEGMENT, row * WIDTH + x + dx, row * WIDTH + x + dx + w);
    classMap.fill(1, row * WIDTH + x + dx, row * WIDTH + x + dx + w);
  }
  const segments = withRuns(segmentMap, WIDTH, [
    { id: 1, classId: 0, className: 'road', isThing: false, area: WIDTH * HEIGHT - w * h, bbox: [0, 0, WIDTH, HEIGHT], score: 1 },
    { id: CAR_SEGMENT, classId: 1, className: 'car', isThing: true, area: w * h, bbox: [x + dx, y, x + dx + w, y + h], score: 0.87, trackId: CAR_TRACK, trackState: 'confirmed' },
  ]);
  return { width: WIDTH, height: HEIGHT, classMap, segmentMap, segments, classes: testClassSet(CLASS_NAMES, ['car']) };
}

/** The car track in the frame where it has moved `dx`, with the trail the tracker keeps: its bottom centre every 10 px so far. */
function carTrack(dx: number): TrackedObject {
  const [x, y, w, h] = CAR;
  const trail = Array.from({ length: dx / 10 + 1 }, (_, k) => [x + k * 10 + w / 2, y + h] as const);
  return { trackId: CAR_TRACK, state: 'confirmed', classId: 1, className: 'car', bbox: [x + dx, y, x + dx + w, y + h], score: 0.87, segmentId: CAR_SEGMENT, ageMs: 0, hits: 1, trail };
}

const analytics: FrameAnalytics = {
  counts: { car: 1 },
  coverage: { road: 0.86 },
  unique: { car: 3 },
  lines: [{ name: 'gate', points: [[0, 0.5], [1, 0.5]], in: { car: 2 }, out: { car: 1 } }],
  zones: [],
  events: [],
  crowd: { persons: 0 },
};

/** Frame `seq` of stream `stream`, with the car `seq * 10` pixels to the right. */
function packet(seq: number, jpeg: Buffer, options: { stream?: string; overlay?: { width: number; height: number } } = {}): FramePacket {
  const dx = seq * 10;
  const overlay = options.overlay ?? { width: WIDTH, height: HEIGHT };
  return {
    frame: { stream: options.stream ?? 'cam', seq, ptsMs: seq * 40, width: WIDTH, height: HEIGHT, data: new Uint8Array(0), capturedAtMs: EPOCH_MS + seq * 40 },
    timings: {},
    panoptic: panopticFrame(dx),
    tracks: [carTrack(dx)],
    analytics,
    overlay: { jpeg, ...overlay },
    leases: [],
  };
}

let jpeg: Buffer;
const sinks: FoxgloveSink[] = [];
const sockets: WebSocket[] = [];

async function startSink(ctx = testContext(), options: Record<string, unknown> = {}): Promise<FoxgloveSink> {
  const sink = await createFoxgloveSink(foxgloveSink.options.parse({ port: 0, ...options }), ctx);
  sinks.push(sink);
  return sink;
}

/** Connects a `FoxgloveClient` offering `protocols`, and waits for the server's channels. */
async function connect(url: string, protocols: string[] = [FoxgloveClient.SUPPORTED_SUBPROTOCOL], headers: Record<string, string> = {}): Promise<Recorder> {
  const socket = new WebSocket(url, protocols, { headers });
  sockets.push(socket);
  const recorder = new Recorder(socket);
  await recorder.until(() => recorder.serverInfo !== undefined && recorder.channels.length > 0, 'serverInfo and advertise');
  return recorder;
}

/** The HTTP status with which the server refuses a WebSocket upgrade. */
function refusedStatus(url: string, protocols: string[] = [FoxgloveClient.SUPPORTED_SUBPROTOCOL], headers: Record<string, string> = {}): Promise<number> {
  const socket = new WebSocket(url, protocols, { headers });
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    socket.once('open', () => reject(new Error('the server accepted the connection')));
    socket.once('error', () => {});
  });
}

beforeAll(async () => {
  const rgb = new Uint8Array(WIDTH * HEIGHT * 3).fill(128);
  jpeg = await sharp(rgb, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
});

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  await Promise.all(sinks.splice(0).map((sink) => sink.close()));
});

describe('foxglove sink options', () => {
  it('defaults to loopback, port 8765 and a 4 MB per-client buffer', () => {
    expect(foxgloveSink.type).toBe('foxglove');
    expect(foxgloveSink.kind).toBe('sink');
    expect(foxgloveSink.options.parse({})).toEqual({
      host: '127.0.0.1',
      port: 8765,
      maxBufferedBytes: 4 * 1024 * 1024,
      disconnectBufferedBytes: 16 * 1024 * 1024,
      stuckTimeoutMs: 10_000,
      maxClients: 16,
      headersTimeoutMs: 10_000,
      trailLength: 20,
      allowedOrigins: ['https://app.foxglove.dev'],
      allowedHosts: [],
    });
  });

  it('refuses to bind another interface without a token, before binding anything', async () => {
    const attempt = startSink(testContext(), { host: '0.0.0.0' });
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    await expect(attempt).rejects.toThrow(/foxglove: binding 0\.0\.0\.0 makes it reachable from the network, so it needs a token: set the foxglove sink's token option/);
  });

  it('refuses a disconnect limit that would cut clients off before they skip an image', async () => {
    await expect(startSink(testContext(), { maxBufferedBytes: 1024, disconnectBufferedBytes: 1024 })).rejects.toThrow(
      /disconnectBufferedBytes \(1024\) must be larger than maxBufferedBytes \(1024\)/,
    );
  });

  it('binds another interface when given a token', async () => {
    const sink = await startSink(testContext(), { host: '0.0.0.0', token: 'opensesame' });
    expect(sink.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
  });
});

describe('foxglove sink', () => {
  it('greets with serverInfo and advertises image, annotations, counts and density per stream', async () => {
    const ctx = testContext(['cam', 'gate-2']);
    const sink = await startSink(ctx);
    expect(sink.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(ctx.log.lines.join('\n')).toContain(`foxglove on ${sink.url}`);
    const client = await connect(sink.url);

    expect(client.socket.protocol).toBe('foxglove.websocket.v1');
    expect(client.serverInfo).toMatchObject({ op: 'serverInfo', name: 'panoptes', capabilities: [] });
    expect(client.serverInfo!.sessionId).toBeTruthy();
    expect(client.channels.map((c) => [c.topic, c.schemaName, c.encoding, c.schemaEncoding])).toEqual([
      ['/cam/image', 'foxglove.CompressedImage', 'json', 'jsonschema'],
      ['/cam/annotations', 'foxglove.ImageAnnotations', 'json', 'jsonschema'],
      ['/cam/counts', 'panoptes.Counts', 'json', 'jsonschema'],
      ['/cam/density', 'foxglove.RawImage', 'json', 'jsonschema'],
      ['/gate-2/image', 'foxglove.CompressedImage', 'json', 'jsonschema'],
      ['/gate-2/annotations', 'foxglove.ImageAnnotations', 'json', 'jsonschema'],
      ['/gate-2/counts', 'panoptes.Counts', 'json', 'jsonschema'],
      ['/gate-2/density', 'foxglove.RawImage', 'json', 'jsonschema'],
    ]);
    expect(new Set(client.channels.map((c) => c.id)).size).toBe(8);
    for (const channel of client.channels) expect((JSON.parse(channel.schema) as { title: string }).title).toBe(channel.schemaName);
  });

  it('sends the JPEG, outlines, labels, trails, lines and counts of each frame to subscribers', async () => {
    const sink = await startSink();
    const client = await connect(sink.url);
    const image = client.client.subscribe(client.channel('/cam/image').id);
    const annotations = client.client.subscribe(client.channel('/cam/annotations').id);
    const counts = client.client.subscribe(client.channel('/cam/counts').id);
    // The subscriptions travel on the same socket before any frame is written after this round trip.
    await sleep(50);

    sink.write(packet(0, jpeg));
    sink.write(packet(1, jpeg));
    await client.until(() => client.payloads(image).length === 2 && client.payloads(annotations).length === 2 && client.payloads(counts).length === 2, 'two frames on three channels');

    // Image: the overlay JPEG, base64 in JSON, stamped with the frame's capture time.
    const [, imageMessage] = client.payloads<CompressedImageJson>(image);
    const bytes = Buffer.from(imageMessage!.data, 'base64');
    expect([bytes[0], bytes[1]]).toEqual([0xff, 0xd8]);
    expect(bytes.equals(jpeg)).toBe(true);
    expect(imageMessage).toMatchObject({ format: 'jpeg', frame_id: 'cam', timestamp: { sec: 1_700_000_000, nsec: 163_000_000 } });
    const stamps = client.messages.filter((m) => m.subscriptionId === image).map((m) => m.timestamp);
    expect(stamps).toEqual([1_700_000_000_123_000_000n, 1_700_000_000_163_000_000n]);

    // Annotations of frame 1: the car moved 10 px right.
    const [, frame1] = client.payloads<ImageAnnotations>(annotations);
    expect(frame1!.timestamp).toEqual(imageMessage!.timestamp);
    const outlines = frame1!.points.filter((p) => p.type === PointsAnnotationType.LINE_LOOP);
    expect(outlines).toHaveLength(1);
    const [x, y, w, h] = CAR;
    expect(sortPoints(outlines[0]!.points)).toEqual(sortPoints([
      { x: x + 10, y },
      { x: x + 10 + w, y },
      { x: x + 10 + w, y: y + h },
      { x: x + 10, y: y + h },
    ]));
    expect(outlines[0]!.fill_color.a).toBeGreaterThan(0);
    expect(frame1!.texts.map((t) => t.text)).toEqual(['car #12 0.87', 'gate: in 2 out 1']);
    const strips = frame1!.points.filter((p) => p.type === PointsAnnotationType.LINE_STRIP);
    // The trail: bottom centre of the box in frames 0 and 1; then the counting line across the middle.
    expect(strips.map((s) => s.points)).toEqual([
      [{ x: x + w / 2, y: y + h }, { x: x + 10 + w / 2, y: y + h }],
      [{ x: 0, y: HEIGHT / 2 }, { x: WIDTH, y: HEIGHT / 2 }],
    ]);

    // Counts: confirmed objects and line totals from analytics.
    const [, countsMessage] = client.payloads<CountsMessage>(counts);
    expect(countsMessage).toEqual({
      timestamp: { sec: 1_700_000_000, nsec: 163_000_000 },
      stream: 'cam',
      seq: 1,
      ptsMs: 40,
      source: 'analytics',
      counts: { car: 1 },
      total: 1,
      unique: { car: 3 },
      lines: [{ name: 'gate', in: { car: 2 }, out: { car: 1 }, inTotal: 2, outTotal: 1 }],
      zones: [],
    });
  });

  it('sends the density count with its band on counts, per zone too, and the map as a RawImage once per estimate', async () => {
    const sink = await startSink();
    const client = await connect(sink.url);
    const counts = client.client.subscribe(client.channel('/cam/counts').id);
    const density = client.client.subscribe(client.channel('/cam/density').id);
    await sleep(50);
    // A 4x2 map over the frame's top half: 30 people, 24 of them in the right column; a zone over the right half.
    const map = Float32Array.from([1, 1, 1, 12, 1, 1, 1, 12]);
    const estimate: DensityEstimate = {
      model: 'mcnn-shanghaitech-a',
      count: 30,
      scale: 1,
      expectedError: 0.26,
      ...densityBand(30, 0.26),
      map,
      width: 4,
      height: 2,
      region: [0, 0, 1, 0.5],
      seq: 0,
      ageMs: 0,
    };
    const zone = { name: 'stage', polygon: [[0.5, 0], [1, 0], [1, 1], [0.5, 1]] as [number, number][], occupancy: { person: 2 }, entered: { person: 5 } };
    const withDensity = (seq: number, next: DensityEstimate): FramePacket => ({
      ...packet(seq, jpeg),
      analytics: { ...analytics, zones: [zone] },
      density: { ...next, ageMs: seq * 40 - next.seq * 40 },
    });
    // Frames 0-2 carry the estimate of frame 0; frame 3 brings a new one.
    const next = { ...estimate, map: Float32Array.from(map), seq: 3, count: 40, ...densityBand(40, 0.26) };
    for (const seq of [0, 1, 2]) sink.write(withDensity(seq, estimate));
    sink.write(withDensity(3, next));
    await client.until(() => client.payloads(counts).length === 4 && client.payloads(density).length === 2, 'four counts, two maps');

    const sent = client.payloads<CountsMessage>(counts);
    expect(sent[1]!.density).toEqual({ model: 'mcnn-shanghaitech-a', count: 30, low: 22.2, high: 37.8, expectedError: 0.26, seq: 0, ageMs: 40 });
    expect(sent[3]!.density).toMatchObject({ count: 40, low: 29.6, high: 50.4, seq: 3, ageMs: 0 });
    // The zone: the map's right half (2 cells of 1, 2 of 12), beside the tracked occupancy.
    expect(sent[0]!.zones).toEqual([
      { name: 'stage', occupancy: { person: 2 }, entered: { person: 5 }, occupancyTotal: 2, enteredTotal: 5, density: { count: 26, low: 19.2, high: 32.8 } },
    ]);
    // The map: one image per estimate, not per frame; the densest cells red, the others dimmer.
    const images = client.payloads<{ width: number; height: number; encoding: string; step: number; frame_id: string; data: string }>(density);
    expect(images).toHaveLength(2);
    expect(images[0]).toMatchObject({ width: 4, height: 2, encoding: 'rgb8', step: 12, frame_id: 'cam' });
    const rgb = Buffer.from(images[0]!.data, 'base64');
    expect(rgb).toHaveLength(4 * 2 * 3);
    expect([rgb[9], rgb[10], rgb[11]]).toEqual([255, 0, 0]);
    expect(rgb[0]!).toBeLessThan(60);
  });

  it('draws annotations in the pixels of a scaled overlay, and counts segments without analytics', async () => {
    const sink = await startSink();
    const client = await connect(sink.url);
    const annotations = client.client.subscribe(client.channel('/cam/annotations').id);
    const counts = client.client.subscribe(client.channel('/cam/counts').id);
    await sleep(50);
    const { analytics: _, tracks: __, ...bare } = packet(0, jpeg, { overlay: { width: WIDTH / 2, height: HEIGHT / 2 } });
    sink.write(bare);
    await client.until(() => client.payloads(counts).length === 1 && client.payloads(annotations).length === 1, 'one frame');

    const [x, y, w, h] = CAR;
    const [outline] = client.payloads<ImageAnnotations>(annotations)[0]!.points;
    expect(sortPoints(outline!.points)).toEqual(sortPoints([
      { x: x / 2, y: y / 2 },
      { x: (x + w) / 2, y: y / 2 },
      { x: (x + w) / 2, y: (y + h) / 2 },
      { x: x / 2, y: (y + h) / 2 },
    ]));
    expect(client.payloads<CountsMessage>(counts)[0]).toMatchObject({ source: 'segments', counts: { car: 1 }, total: 1, lines: [] });
  });

  it('sends only subscribed channels, and stops a channel on unsubscribe', async () => {
    const sink = await startSink(testContext(['cam', 'other']));
    const client = await connect(sink.url);
    const image = client.client.subscribe(client.channel('/cam/image').id);
    const counts = client.client.subscribe(client.channel('/cam/counts').id);
    await sleep(50);
    sink.write(packet(0, jpeg));
    sink.write(packet(0, jpeg, { stream: 'other' }));
    await client.until(() => client.payloads(image).length === 1 && client.payloads(counts).length === 1, 'frame 0');

    client.client.unsubscribe(image);
    await sleep(50);
    sink.write(packet(1, jpeg));
    sink.write(packet(2, jpeg));
    // Messages of one socket arrive in order: once frame 2's counts are in, frame 1's image would be too.
    await client.until(() => client.payloads(counts).length === 3, 'frames 1 and 2');
    expect(client.payloads(image)).toHaveLength(1);
    // Nothing of the unsubscribed annotations channel or of the other stream.
    expect(new Set(client.messages.map((m) => m.subscriptionId))).toEqual(new Set([image, counts]));
  });

  it('answers malformed and unsupported requests with a status and stays connected', async () => {
    const sink = await startSink();
    const client = await connect(sink.url);
    client.socket.send('{ not json');
    client.socket.send(JSON.stringify({ op: 'subscribeParameterUpdates', parameterNames: ['x'] }));
    client.socket.send(JSON.stringify({ op: 'subscribe', subscriptions: [{ id: 'a', channelId: 1 }] }));
    client.client.subscribe(999);
    await client.until(() => client.statuses.length === 4, 'four statuses');
    expect(client.statuses.map((s) => [s.level, s.message])).toEqual([
      [2, 'message is not JSON'],
      [2, 'op "subscribeParameterUpdates" is not supported by this server (only subscribe and unsubscribe)'],
      [2, expect.stringMatching(/^malformed subscribe: subscriptions\.0\.id: /)],
      [1, 'channel 999 is not available; ignoring subscription'],
    ]);
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('answers a subscribe to thousands of unknown channels with a bounded number of statuses', async () => {
    const sink = await startSink();
    const client = await connect(sink.url);
    // About 60 KB: just under the 64 KiB a client message may have.
    const subscriptions = Array.from({ length: 1500 }, (_, k) => ({ id: k + 1, channelId: 100_000 + k }));
    client.socket.send(JSON.stringify({ op: 'subscribe', subscriptions }));
    await client.until(() => client.statuses.some((s) => s.message.includes('more problems')), 'the summary status');
    await sleep(50);
    expect(client.statuses).toHaveLength(MAX_STATUSES_PER_REQUEST + 1);
    expect(client.statuses[0]!.message).toBe('channel 100000 is not available; ignoring subscription');
    expect(client.statuses.at(-1)!.message).toBe(`${1500 - MAX_STATUSES_PER_REQUEST} more problems with this subscribe request; not listed`);
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('answers at most MAX_STATUSES_PER_SECOND bad messages a second, and sums up the rest', async () => {
    const sink = await startSink();
    const client = await connect(sink.url);
    for (let k = 0; k < 200; k++) client.socket.send(`{ not json ${k}`);
    // Every bad message is answered on its own or summed up in a summary: none silently.
    const summed = /^(\d+) more problems with this client's messages in the last second; not listed \(at most (\d+) answers a second\)$/;
    const accounted = () =>
      client.statuses.reduce((n, s) => n + (s.message === 'message is not JSON' ? 1 : Number(summed.exec(s.message)?.[1] ?? 0)), 0);
    await client.until(() => accounted() === 200, 'every bad message answered or summed up');
    expect(client.statuses.every((s) => s.message === 'message is not JSON' || summed.test(s.message))).toBe(true);
    // The burst: the first second's allowance answered one by one, then one summary for the rest
    // of that second (a loaded machine may take more than a second to read the 200, and then the
    // next second starts with its own allowance).
    expect(client.statuses.slice(0, MAX_STATUSES_PER_SECOND).every((s) => s.message === 'message is not JSON')).toBe(true);
    const firstSummary = client.statuses.findIndex((s) => summed.test(s.message));
    expect(firstSummary).toBe(MAX_STATUSES_PER_SECOND);
    expect(summed.exec(client.statuses[firstSummary]!.message)![2]).toBe(String(MAX_STATUSES_PER_SECOND));
    // At most the allowance and a summary per second: far fewer answers than bad messages.
    expect(client.statuses.length).toBeLessThan(200 / 2);
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('refuses a client past maxClients (503) and takes one again once a client has left', async () => {
    const sink = await startSink(testContext(), { maxClients: 2 });
    const first = await connect(sink.url);
    await connect(sink.url);
    expect(await refusedStatus(sink.url)).toBe(503);
    const gone = new Promise((resolve) => first.socket.once('close', resolve));
    first.socket.close();
    await gone;
    await sleep(50);
    const third = await connect(sink.url);
    expect(third.serverInfo?.name).toBe('panoptes');
  });

  it('disconnects a client that takes nothing for stuckTimeoutMs, with the reason, and frees what it held', async () => {
    const ctx = testContext();
    const sink = await startSink(ctx, { maxBufferedBytes: 64 * 1024, disconnectBufferedBytes: 64 * 1024 * 1024, stuckTimeoutMs: 300 });
    const noisyJpeg = await sharp(randomBytes(640 * 480 * 3), { raw: { width: 640, height: 480, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
    const stalled = await connect(sink.url);
    stalled.client.subscribe(stalled.channel('/cam/image').id);
    await sleep(50);
    // Never read again: only images, which never overflow its queue; the clock cuts it.
    stalled.socket.pause();
    let closeCode: number | undefined;
    const closed = new Promise<void>((resolve) => stalled.socket.once('close', (code) => ((closeCode = code), resolve())));
    let seq = 0;
    while (!ctx.log.lines.some((line) => line.includes('disconnecting a client that stopped reading'))) {
      expect(seq, 'the stuck client was never disconnected').toBeLessThan(2000);
      sink.write(packet(seq++, noisyJpeg));
      await sleep(5);
    }
    stalled.socket.resume();
    await closed;
    expect([1008, 1006]).toContain(closeCode);
    expect(ctx.log.lines.find((line) => line.includes('disconnecting a client that stopped reading'))).toMatch(/too slow: nothing could be sent for 300 ms/);
    expect(sink.backlog()).toMatchObject({ queuedBytes: 0, inFlightBytes: 0 });
  });

  it('accepts a client that offers only foxglove.sdk.v1, and answers with the first subprotocol offered', async () => {
    const sink = await startSink();
    const sdk = await connect(sink.url, ['foxglove.sdk.v1']);
    expect(sdk.socket.protocol).toBe('foxglove.sdk.v1');
    const counts = sdk.client.subscribe(sdk.channel('/cam/counts').id);
    await sleep(50);
    sink.write(packet(0, jpeg));
    await sdk.until(() => sdk.payloads(counts).length === 1, 'counts over foxglove.sdk.v1');

    const both = await connect(sink.url, ['foxglove.sdk.v1', 'foxglove.websocket.v1']);
    expect(both.socket.protocol).toBe('foxglove.sdk.v1');
    const legacyFirst = await connect(sink.url, ['foxglove.websocket.v1', 'foxglove.sdk.v1']);
    expect(legacyFirst.socket.protocol).toBe('foxglove.websocket.v1');
  });

  it('refuses a client that offers no Foxglove subprotocol', async () => {
    const sink = await startSink();
    expect(await refusedStatus(sink.url, [])).toBe(400);
    expect(await refusedStatus(sink.url, ['chat'])).toBe(400);
  });

  it('refuses browsers from other origins and rebinding hosts, accepts Foxglove\'s web app', async () => {
    const sink = await startSink();
    expect(await refusedStatus(sink.url, undefined, { Origin: 'https://evil.example' })).toBe(403);
    expect(await refusedStatus(sink.url, undefined, { Host: 'cameras.evil.example' })).toBe(403);
    // Names that merely look like loopback addresses are DNS names like any other.
    expect(await refusedStatus(sink.url, undefined, { Host: '127.evil.example' })).toBe(403);
    expect(await refusedStatus(sink.url, undefined, { Host: '127.0.0.1.nip.io', Origin: 'https://app.foxglove.dev' })).toBe(403);
    const port = new URL(sink.url).port;
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
      expect((await connect(sink.url, undefined, { Host: host })).serverInfo?.name).toBe('panoptes');
    }
    const fromApp = await connect(sink.url, undefined, { Origin: 'https://app.foxglove.dev' });
    expect(fromApp.serverInfo?.name).toBe('panoptes');
  });

  it('accepts the Host names listed in allowedHosts, and only those', async () => {
    const sink = await startSink(testContext(), { allowedHosts: ['cameras.lan'] });
    expect((await connect(sink.url, undefined, { Host: 'cameras.lan:8765' })).serverInfo?.name).toBe('panoptes');
    expect(await refusedStatus(sink.url, undefined, { Host: 'cameras.lan.evil.example' })).toBe(403);
  });

  it('with a token, refuses clients without it and accepts it as ?token= or a Bearer header', async () => {
    const token = randomBytes(16).toString('hex');
    const sink = await startSink(testContext(), { token });
    expect(await refusedStatus(sink.url)).toBe(401);
    expect(await refusedStatus(`${sink.url}/?token=wrong`)).toBe(401);
    expect(await refusedStatus(sink.url, undefined, { Authorization: 'Bearer wrong' })).toBe(401);

    const byQuery = await connect(`${sink.url}/?token=${token}`);
    expect(byQuery.serverInfo?.name).toBe('panoptes');
    const byHeader = await connect(sink.url, undefined, { Authorization: `Bearer ${token}` });
    expect(byHeader.serverInfo?.name).toBe('panoptes');
  });

  it('tells clients when a stream ends or fails', async () => {
    const sink = await startSink();
    const client = await connect(sink.url);
    sink.streamEnded?.('cam');
    sink.streamEnded?.('cam', new Error('camera unplugged'));
    await client.until(() => client.statuses.length === 2, 'two statuses');
    expect(client.statuses.map((s) => [s.level, s.message])).toEqual([
      [0, 'stream cam ended'],
      [2, 'stream cam failed: camera unplugged'],
    ]);
  });

  it('skips images for a client that stopped reading, never its annotations or counts, without slowing anyone', async () => {
    const ctx = testContext();
    const sink = await startSink(ctx, { maxBufferedBytes: 256 * 1024 });
    // Noise barely compresses: big frames fill the socket buffers in few writes.
    const noisyJpeg = await sharp(randomBytes(640 * 480 * 3), { raw: { width: 640, height: 480, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();

    const subscribeAll = async (client: Recorder) => {
      const ids = ['image', 'annotations', 'counts'].map((kind) => client.client.subscribe(client.channel(`/cam/${kind}`).id));
      return { image: ids[0]!, annotations: ids[1]!, counts: ids[2]! };
    };
    const stalled = await connect(sink.url);
    const stalledIds = await subscribeAll(stalled);
    const reader = await connect(sink.url);
    const readerIds = await subscribeAll(reader);
    await sleep(50);

    let seq = 0;
    // write() never waits for a client: the bounded backlog below is what shows it (how long a
    // write takes is the bench's business, not a test's).
    const write = () => sink.write(packet(seq++, noisyJpeg));
    write();
    await stalled.until(() => stalled.payloads(stalledIds.counts).length === 1, 'the first frame');
    // The client stops reading: its kernel buffers fill, then the server's queue for it.
    stalled.socket.pause();

    const drops = () => ctx.metrics.snapshot().find((stats) => stats.stream === 'cam')?.skipped.foxglove ?? 0;
    while (drops() === 0) {
      expect(seq, 'the stalled client never passed the limit').toBeLessThan(2000);
      write();
      await nextTurn();
    }
    const dropsBefore = drops();
    const extra = 20;
    for (let i = 0; i < extra; i++) {
      write();
      await sleep(5);
    }
    const frames = seq;
    await reader.until(() => reader.payloads(readerIds.counts).length === frames, 'every frame at the reader');

    expect(drops() - dropsBefore).toBeGreaterThanOrEqual(extra);
    // Bounded: the stalled client holds one waiting image and its annotations and counts, all
    // under the disconnect limit; every image replaced was counted, by the queue and the metrics.
    // Both clients added up: each has at most its budget in flight (the message that crossed it
    // included) and one image waiting.
    const backlog = sink.backlog();
    const imageMessage = noisyJpeg.length + 1024;
    expect(backlog.inFlightBytes).toBeLessThanOrEqual(2 * (256 * 1024 + imageMessage));
    expect(backlog.queuedBytes - backlog.losslessBytes).toBeLessThanOrEqual(2 * imageMessage);
    expect(backlog.inFlightBytes + backlog.queuedBytes).toBeLessThanOrEqual(2 * 64 * 1024 * 1024);
    expect(backlog.dropped).toBe(drops());
    expect(reader.payloads(readerIds.image).length).toBeGreaterThanOrEqual(Math.floor(frames * 0.75));

    // Once it reads again, the slow client gets every frame's annotations and counts, and was told why images are missing.
    stalled.socket.resume();
    await stalled.until(() => stalled.payloads(stalledIds.counts).length === frames, 'every count at the resumed client', 20_000);
    expect(stalled.payloads<CountsMessage>(stalledIds.counts).map((c) => c.seq)).toEqual([...Array(frames).keys()]);
    expect(stalled.payloads(stalledIds.annotations)).toHaveLength(frames);
    expect(stalled.payloads(stalledIds.image).length).toBeLessThanOrEqual(frames - extra);
    expect(stalled.statuses.map((s) => s.message)).toContain('Send buffer limit reached: skipping images until the connection catches up');
    expect(stalled.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('disconnects a client that stays stuck past disconnectBufferedBytes', async () => {
    const ctx = testContext();
    const sink = await startSink(ctx, { maxBufferedBytes: 64 * 1024, disconnectBufferedBytes: 512 * 1024 });
    const noisyJpeg = await sharp(randomBytes(640 * 480 * 3), { raw: { width: 640, height: 480, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
    const stalled = await connect(sink.url);
    // Images fill the kernel's socket buffers fast; past maxBufferedBytes they are skipped and
    // annotations, never skipped, keep growing the queue.
    stalled.client.subscribe(stalled.channel('/cam/image').id);
    stalled.client.subscribe(stalled.channel('/cam/annotations').id);
    await sleep(50);
    stalled.socket.pause();
    const closed = new Promise<void>((resolve) => stalled.socket.once('close', () => resolve()));

    let seq = 0;
    while (!ctx.log.lines.some((line) => line.includes('disconnecting a client that stopped reading'))) {
      expect(seq, 'the stuck client was never disconnected').toBeLessThan(5000);
      sink.write(packet(seq++, noisyJpeg));
      await nextTurn();
    }
    stalled.socket.resume();
    await closed;
    // Gone from the server: nothing waits for it any more, and what it held never passed the limit.
    expect(sink.backlog()).toMatchObject({ queuedBytes: 0, losslessBytes: 0 });
    expect(ctx.log.lines.find((line) => line.includes('disconnecting a client that stopped reading'))).toMatch(/too slow: more than \d+ bytes waiting/);
  });
});

describe('segment outlines', () => {
  /** A one-segment panoptic frame from rows of text: `#` is the segment (id 5), `.` is void. */
  function outlinesOf(rows: string[], options?: Parameters<typeof segmentOutlines>[2]): Point[][] {
    const height = rows.length;
    const width = rows[0]!.length;
    const segmentMap = new Uint32Array(width * height);
    let [minX, minY, maxX, maxY, area] = [width, height, -1, -1, 0];
    rows.forEach((row, y) =>
      [...row].forEach((cell, x) => {
        if (cell !== '#') return;
        segmentMap[y * width + x] = 5;
        [minX, minY, maxX, maxY, area] = [Math.min(minX, x), Math.min(minY, y), Math.max(maxX, x), Math.max(maxY, y), area + 1];
      }),
    );
    const [segment] = withRuns(segmentMap, width, [{ id: 5, classId: 1, className: 'car', isThing: true, area, bbox: [minX, minY, maxX + 1, maxY + 1], score: 1 }]);
    return segmentOutlines(width, segment!, options);
  }
  const corners = (polygon: readonly Point[]) => sortPoints(polygon.map(([x, y]) => ({ x, y })));
  const shoelace = (polygon: readonly Point[]) =>
    Math.abs(polygon.reduce((sum, [x, y], i) => {
      const [nx, ny] = polygon[(i + 1) % polygon.length]!;
      return sum + x * ny - nx * y;
    }, 0)) / 2;

  /** No simplification: the traced corners themselves. */
  const exact = { tolerancePx: 0, minPiecePixels: 1, maxVertices: 10_000 };

  it('follows pixel edges: an L comes out as its six corners, clockwise on screen', () => {
    const [l, ...rest] = outlinesOf(['......', '.####.', '.####.', '.##...', '.##...', '......'], exact);
    expect(rest).toEqual([]);
    expect(corners(l!)).toEqual(corners([[1, 1], [5, 1], [5, 3], [3, 3], [3, 5], [1, 5]]));
    // Positive shoelace sum in y-down coordinates: clockwise on screen, like Foxglove draws it.
    expect(shoelace(l!)).toBe(12);
  });

  it('traces each piece, largest first, joins diagonal neighbours and skips specks', () => {
    const pieces = outlinesOf(['##....###', '##....###', '..#...###', '.........', '........#'], { ...exact, minPiecePixels: 2 });
    // The 2x2 block and the pixel touching its corner are one piece; the lone pixel is a speck.
    expect(pieces.map(shoelace)).toEqual([9, 5]);
  });

  it('outlines a ring by its outside only (a filled polygon cannot show the hole)', () => {
    const [ring, ...rest] = outlinesOf(['#####', '#...#', '#...#', '#####'], exact);
    expect(rest).toEqual([]);
    expect(corners(ring!)).toEqual(corners([[0, 0], [5, 0], [5, 4], [0, 4]]));
  });

  it('simplifies a disk to few vertices that still cover its area', () => {
    const size = 81;
    const rows = Array.from({ length: size }, (_, y) =>
      Array.from({ length: size }, (_, x) => ((x - 40) ** 2 + (y - 40) ** 2 <= 38 ** 2 ? '#' : '.')).join(''),
    );
    const pixels = rows.join('').split('').filter((c) => c === '#').length;
    const [disk] = outlinesOf(rows);
    expect(disk!.length).toBeLessThan(80);
    expect(Math.abs(shoelace(disk!) - pixels) / pixels).toBeLessThan(0.02);
    const capped = outlinesOf(rows, { tolerancePx: 0.1, minPiecePixels: 1, maxVertices: 24 });
    expect(capped[0]!.length).toBeLessThanOrEqual(24);
  });
});

function sortPoints(points: readonly { x: number; y: number }[]): { x: number; y: number }[] {
  return [...points].sort((a, b) => a.x - b.x || a.y - b.y);
}
