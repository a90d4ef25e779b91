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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mqttEventsConfig, startMosquitto, type LocalServer } from '../../bench/local-servers.ts';
import { builtinNodes } from '../../nodes/index.ts';
import type { FrameRecord } from '../../nodes/sinks/frame-record.ts';
import { loadPipeline } from '../../pipeline/load.ts';
import { createMemoryLogger } from '../../pipeline/log.ts';
import { runPipeline } from '../../pipeline/run.ts';
import { dataDir } from '../helpers/data-dir.ts';

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
async function subscriber(clientId: string, clean: boolean): Promise<{ client: MqttClient; messages: { topic: string; text: string; retain: boolean }[] }> {
  const client = await connectAsync(broker.url, { clientId, clean, reconnectPeriod: 200 });
  clients.push(client);
  const messages: { topic: string; text: string; retain: boolean }[] = [];
  client.on('message', (topic, payload, packet) => messages.push({ topic, text: payload.toString(), retain: packet.retain }));
  await client.subscribeAsync('test/#', { qos: 1 });
  return { client, messages };
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
