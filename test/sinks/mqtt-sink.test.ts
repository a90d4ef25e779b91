/**
 * The MQTT sink against a real Mosquitto broker, through a real pipeline (MOT17-02 detections,
 * tracker, analytics): every line and zone event of the run reaches a subscriber, those of a
 * broker restart in the middle too, and a client that connects afterwards finds the retained
 * per-class counts and the sink's `offline` status.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nameEvents } from '../../nodes/analytics/event-id.ts';
import { mqttSink } from '../../nodes/sinks/mqtt/mqtt-sink.ts';
import { packetOf, type FrameAnalytics, type TrackedObject } from '../../pipeline/frame.ts';
import { mqttEventsConfig, startMosquitto, type LocalServer } from '../../testing/local-servers.ts';
import { builtinNodes } from '../../nodes/index.ts';
import type { FrameRecord } from '../../nodes/sinks/frame-record.ts';
import { loadPipeline } from '../../pipeline/load.ts';
import { createMemoryLogger } from '../../pipeline/log.ts';
import { runPipeline } from '../../pipeline/run.ts';
import { dataDir, graphContext } from '../helpers/data-dir.ts';

let broker: LocalServer;
let folder: string;
const clients: MqttClient[] = [];

beforeAll(async () => {
  broker = await startMosquitto();
  folder = mkdtempSync(path.join(tmpdir(), 'panoptes-mqtt-test-'));
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await broker?.dispose();
  rmSync(folder, { recursive: true, force: true });
});

/** A subscriber with a persistent session: the broker keeps its messages across a restart. */
async function subscriber(
  clientId: string,
  clean: boolean,
): Promise<{ client: MqttClient; messages: { topic: string; text: string; retain: boolean }[]; messagesRaw: Map<string, Buffer> }> {
  const client = await connectAsync(broker.url, { clientId, clean, reconnectPeriod: 200 });
  clients.push(client);
  const messages: { topic: string; text: string; retain: boolean }[] = [];
  /** The last payload on each topic, as bytes. */
  const messagesRaw = new Map<string, Buffer>();
  client.on('message', (topic, payload, packet) => {
    messages.push({ topic, text: payload.toString(), retain: packet.retain });
    messagesRaw.set(topic, payload);
  });
  await client.subscribeAsync('test/#', { qos: 1 });
  return { client, messages, messagesRaw };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('mqtt sink', () => {
  it('publishes every event, through a broker restart, and retained counts', { timeout: 60_000 }, async () => {
    const live = await subscriber('panoptes-test-live', false);
    const eventsFile = path.join(folder, 'events.jsonl');
    const config = path.join(folder, 'mqtt.yaml');
    writeFileSync(
      config,
      mqttEventsConfig({ dataDir: dataDir(), eventsFile, brokerUrl: broker.url, topicPrefix: 'test', fps: 40, maxFrames: 280 }),
    );
    const log = createMemoryLogger();
    const { spec, dataDir: data } = loadPipeline(config, builtinNodes());
    const run = runPipeline(spec, { dataDir: data, log });
    // The broker goes away for a while in the middle of the run, and comes back.
    await sleep(2500);
    await broker.stop();
    await sleep(1500);
    await broker.start();
    const result = await run;
    expect(result.outcomes.every((o) => !o.error)).toBe(true);
    expect(log.lines.join('\n')).toMatch(/mqtt: lost .*reconnecting/);
    expect(log.lines.join('\n')).toMatch(/mqtt: connected to .* again/);

    const lines = readFileSync(eventsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    const expected = lines.filter((l) => l.type !== 'frame').map((l) => JSON.stringify(l));
    expect(expected.length).toBeGreaterThan(0);
    const received = () => live.messages.filter((m) => m.topic === 'test/cam1/events').map((m) => m.text);
    for (let waited = 0; received().length < expected.length && waited < 10_000; waited += 100) await sleep(100);
    // Every event, once each, in order: none lost while the broker was away.
    expect(received()).toEqual(expected);

    // A client that comes later finds the current counts (retained) and the sink's status.
    const last = lines.filter((l): l is FrameRecord => l.type === 'frame').at(-1)!;
    const later = await subscriber('panoptes-test-later', true);
    for (let waited = 0; !later.messages.some((m) => m.topic === 'test/status') && waited < 5000; waited += 100) await sleep(100);
    const retained = Object.fromEntries(later.messages.filter((m) => m.retain).map((m) => [m.topic, m.text]));
    expect(retained['test/status']).toBe('offline');
    expect(JSON.parse(retained['test/cam1/counts']!)).toEqual({ stream: 'cam1', counts: { pedestrian: last.counts.pedestrian ?? 0 } });
    expect(JSON.parse(retained['test/cam1/counts/pedestrian']!)).toEqual({ stream: 'cam1', className: 'pedestrian', count: last.counts.pedestrian ?? 0 });
  });

  it('publishes each event with its id, and its snapshot, retained per class, as Frigate does', { timeout: 30_000 }, async () => {
    const later = await subscriber('panoptes-test-snapshots', true);
    const sink = await mqttSink.create(mqttSink.options.parse({ url: broker.url, topicPrefix: 'snap' }), graphContext(['cam']));
    await later.client.subscribeAsync('snap/#', { qos: 1 });
    // A real camera JPEG (MOT17-02's first frame) as the overlay, with two crossings: a car and a truck.
    const overlay = readFileSync(path.join(dataDir(), 'replay/sequences/MOT17-02-FRCNN/img1/000001.jpg'));
    const { width, height } = await sharp(overlay).metadata();
    const frame = { stream: 'cam', seq: 0, ptsMs: 0, width: width!, height: height!, data: new Uint8Array(0), capturedAtMs: 1_700_000_000_000 };
    const tracked = (trackId: number, className: string, bbox: readonly [number, number, number, number]): TrackedObject =>
      ({ trackId, state: 'confirmed', classId: 0, className, bbox, score: 0.9, ageMs: 0, hits: 5 });
    const events = nameEvents(
      [
        { type: 'line', stream: 'cam', line: 'road', trackId: 4, className: 'car', direction: 'in', ptsMs: 0 },
        { type: 'line', stream: 'cam', line: 'road', trackId: 9, className: 'truck', direction: 'out', ptsMs: 0 },
      ],
      frame.capturedAtMs,
      frame.seq,
    );
    const analytics: FrameAnalytics = { counts: { car: 1, truck: 1 }, coverage: {}, unique: {}, lines: [], zones: [], events, crowd: { persons: 0 } };
    sink.write({
      ...packetOf(frame),
      overlay: { jpeg: overlay, width: width!, height: height! },
      analytics,
      tracks: [tracked(4, 'car', [40, 40, 100, 80]), tracked(9, 'truck', [150, 60, 230, 140])],
    });
    await sink.close();
    const topics = () => later.messages.map((m) => m.topic);
    for (let waited = 0; !topics().includes('snap/cam/snapshot/truck') && waited < 5000; waited += 100) await sleep(100);

    const published = later.messages.filter((m) => m.topic === 'snap/cam/events').map((m) => JSON.parse(m.text) as { id: string });
    expect(published.map((e) => e.id)).toEqual(['2023-11-14T22-13-20.000Z-f0-line-4', '2023-11-14T22-13-20.000Z-f0-line-9']);
    // Each snapshot is the object cropped with a margin (its box 60x40, 24 px at least around it).
    const car = await sharp(later.messagesRaw.get('snap/cam/snapshot/car')!).metadata();
    expect(car.format).toBe('jpeg');
    expect([car.width, car.height]).toEqual([60 + 2 * 30, 40 + 2 * 30]);
    const truck = await sharp(later.messagesRaw.get('snap/cam/snapshot/truck')!).metadata();
    expect([truck.width, truck.height]).toEqual([80 + 2 * 40, 80 + 2 * 40]);
  });

  it('says which broker it cannot reach, and the video goes on without it (test/faults/start-faults.test.ts: until it comes)', { timeout: 30_000 }, async () => {
    const log = createMemoryLogger();
    const { spec, dataDir: data } = loadPipeline(path.join(folder, 'mqtt.yaml'), builtinNodes(), (raw) => {
      (raw.sources as Record<string, unknown>[])[0]!.maxFrames = 40;
      raw.sinks = [{ type: 'mqtt', url: 'mqtt://127.0.0.1:1' }];
    });
    const result = await runPipeline(spec, { dataDir: data, log });
    expect(result.outcomes.every((o) => !o.error)).toBe(true);
    expect(result.stats[0]!.processed).toBe(40);
    expect(log.lines.join('\n')).toMatch(/mqtt: cannot reach mqtt:\/\/127\.0\.0\.1:1 yet \(connect ECONNREFUSED/);
  });
});
