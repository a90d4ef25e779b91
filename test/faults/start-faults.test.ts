/**
 * What is down when a run starts, with real processes and real sockets: a camera whose port has
 * nothing listening, and an MQTT broker not started yet. The run starts with what is there: the
 * other stream's frames flow from the start, the camera's stream is `waiting` (named by /readyz)
 * and joins within its backoff + 2 s of the camera coming up; the video never waits for the
 * broker, and the events queued meanwhile reach a subscriber once it is up. Every wait has a
 * deadline.
 *
 * The long version is in the fault bench (bench/faults.bench.ts: configs/multi.yaml with one
 * camera down for 10 s, and with the broker down).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { LiveHttpCamera } from '../../testing/faults-camera.ts';
import { FaultRun } from '../../testing/faults-harness.ts';
import { forwardPort, freePort, mqttEventsConfig, startMosquitto } from '../../testing/local-servers.ts';
import { builtinNodes } from '../../nodes/index.ts';
import type { MetricsSink } from '../../nodes/sinks/metrics/metrics-sink.ts';
import type { Graph } from '../../pipeline/graph.ts';
import { loadPipeline } from '../../pipeline/load.ts';
import { createMemoryLogger } from '../../pipeline/log.ts';
import { runPipeline } from '../../pipeline/run.ts';
import { dataDir } from '../helpers/data-dir.ts';

const ROAD = 'replay/videos/ahmetozlu_vehicle_counting_input_video.mp4'; // 640x352, 24 fps
const INTEL_CARS = 'replay/videos/intel_car-detection.mp4'; // 768x432, 12.5 fps
const WAIT_MS = 20_000;

const scratch = mkdtempSync(path.join(tmpdir(), 'panoptes-start-faults-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function readyz(run: FaultRun): Promise<{ status: number; body: { ready: boolean; notRunning?: string[]; streams: { stream: string; state: string }[] } }> {
  const sink = run.graph.sinks.find((s): s is MetricsSink => 'url' in s);
  const response = await fetch(`${sink!.url}/readyz`);
  return { status: response.status, body: (await response.json()) as { ready: boolean; notRunning?: string[]; streams: { stream: string; state: string }[] } };
}

describe('down at start', () => {
  it('a camera not there at start: the other stream runs from the start, the camera waits, and joins within backoff + 2 s of coming up', async () => {
    const camera = new LiveHttpCamera(path.join(dataDir(), ROAD), await freePort());
    const startedAt = performance.now();
    const run = await FaultRun.start(
      {
        sources: [
          { id: 'camera', type: 'ffmpeg', uri: camera.url, resize: { width: 320 }, reconnect: { initialDelayMs: 200, maxDelayMs: 2000, jitter: 0.2 } },
          { id: 'steady', type: 'ffmpeg', uri: INTEL_CARS, realtime: true, loop: true, resize: { width: 320 } },
        ],
        pipeline: [],
        sinks: [
          { type: 'events', path: path.join(scratch, 'camera-down.jsonl') },
          { type: 'metrics', port: 0 },
        ],
      },
      { dataDir: dataDir() },
    );
    try {
      const builtMs = performance.now() - startedAt;
      await run.waitFor(() => run.metrics.processedOf('steady') >= 5, WAIT_MS, 'the steady stream to run');
      const steadyFirstMs = performance.now() - startedAt;
      await run.waitFor(() => run.metrics.stateOf('camera') === 'waiting', WAIT_MS, 'the camera stream to be waiting');
      const answer = await readyz(run);
      expect(answer.status).toBe(503);
      expect(answer.body.notRunning).toEqual(['camera']);
      expect(answer.body.streams).toEqual(expect.arrayContaining([expect.objectContaining({ stream: 'camera', state: 'waiting' })]));
      expect(run.lines.some((line) => /camera:source\].*not there yet \(.*Connection refused/s.test(line))).toBe(true);

      await sleep(3000);
      expect(run.metrics.stateOf('camera')).toBe('waiting');
      expect(run.metrics.processedOf('camera')).toBe(0);
      const waits = () => run.lines.map((line) => /camera:source\].*trying again in (\d+) ms/s.exec(line)).flatMap((m) => (m ? [Number(m[1])] : []));
      await camera.start();
      const upAt = performance.now();
      await run.waitFor(() => run.metrics.stateOf('camera') === 'running', WAIT_MS, 'the camera stream to join');
      const joinMs = performance.now() - upAt;
      // The backoff in effect: the wait before the try that found the camera.
      const budgetMs = waits().at(-1)! + 2000;
      process.stderr.write(
        `  graph built in ${Math.round(builtMs)} ms, steady's 5th frame at ${Math.round(steadyFirstMs)} ms; ` +
          `camera joined ${Math.round(joinMs)} ms after it came up (budget ${budgetMs} ms, waits ${waits().join(', ')})\n`,
      );
      expect(builtMs).toBeLessThan(5000);
      expect(joinMs).toBeLessThan(budgetMs);
      expect(run.lines.find((line) => /camera:source\].*640x352 @ [\d.]+ fps/.test(line))).toMatch(/640x352 @ 24(\.\d+)? fps \(resized to 320x176\)/);
      await run.waitFor(() => run.metrics.processedOf('camera') >= 5, WAIT_MS, "the camera's frames through the graph");
      expect((await readyz(run)).status).toBe(200);
      expect(run.metrics.seen.filter((s) => s.stream === 'camera').map((s) => s.state)).toEqual(['starting', 'waiting', 'running']);
      expect(run.metrics.seen.filter((s) => s.stream === 'steady').map((s) => s.state)).toEqual(['starting', 'running']);
      expect(run.metrics.snapshot().find((s) => s.stream === 'camera')).toMatchObject({ reconnects: 0, stalls: 0 });
    } finally {
      const outcomes = await run.stop();
      await camera.stop();
      expect(outcomes.map((o) => o.error)).toEqual([undefined, undefined]);
    }
  }, 90_000);

  it('an MQTT broker not started yet: frames flow, the events wait, and reach a subscriber once the broker is up', async () => {
    // The sink's broker address is a port with nothing listening until the broker "starts": then
    // a forwarder to a Mosquitto that a subscriber was listening on all along (so that no event
    // can slip by before the subscriber is there, however fast the sink connects).
    const broker = await startMosquitto();
    const port = await freePort();
    const clients: MqttClient[] = [];
    let forwarder: { close(): Promise<void> } | undefined;
    try {
      const subscriber = await connectAsync(broker.url, { clientId: 'panoptes-start-sub' });
      clients.push(subscriber);
      await subscriber.subscribeAsync('start/#', { qos: 1 });
      const received: string[] = [];
      subscriber.on('message', (topic, payload) => topic === 'start/cam1/events' && received.push(payload.toString()));

      const url = `mqtt://127.0.0.1:${port}`;
      const eventsFile = path.join(scratch, 'broker-down.jsonl');
      const config = path.join(scratch, 'broker-down.yaml');
      writeFileSync(
        config,
        mqttEventsConfig({ dataDir: dataDir(), eventsFile, brokerUrl: url, topicPrefix: 'start', fps: 40, maxFrames: 300 }),
      );
      const log = createMemoryLogger();
      const { spec, dataDir: data } = loadPipeline(config, builtinNodes());
      let graph: Graph | undefined;
      const startedAt = performance.now();
      const result = runPipeline(spec, { dataDir: data, log, onStarted: (g) => (graph = g) });
      const processed = () => graph?.metrics.snapshot().find((s) => s.stream === 'cam1')?.processed ?? 0;
      for (let waited = 0; processed() < 80 && waited < WAIT_MS; waited += 50) await sleep(50);
      const framesMs = performance.now() - startedAt;
      expect(processed()).toBeGreaterThanOrEqual(80);
      const mqtt = graph!.sinks[1]!;
      expect(mqtt.status?.()).toMatchObject({ connected: false });
      expect(log.lines.join('\n')).toMatch(new RegExp(`mqtt: cannot reach ${url} yet`));
      expect(received).toEqual([]);

      forwarder = await forwardPort(port, broker.port);
      const upAt = performance.now();
      for (let waited = 0; mqtt.status?.().connected !== true && waited < WAIT_MS; waited += 50) await sleep(50);
      const connectMs = performance.now() - upAt;
      expect(mqtt.status?.().connected).toBe(true);
      const outcome = await result;
      expect(outcome.outcomes.every((o) => !o.error)).toBe(true);

      const lines = readFileSync(eventsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; seq?: number });
      const expected = lines.filter((l) => l.type !== 'frame').map((l) => JSON.stringify(l));
      expect(expected.length).toBeGreaterThan(0);
      for (let waited = 0; received.length < expected.length && waited < 10_000; waited += 100) await sleep(100);
      process.stderr.write(
        `  ${processed()} frames, 80 of them ${Math.round(framesMs)} ms after the start with no broker; ` +
          `the sink connected ${Math.round(connectMs)} ms after the broker came up; ${received.length} of ${expected.length} events received\n`,
      );
      // Every event, once each, in order: those queued before the broker was up too.
      expect(received).toEqual(expected);
    } finally {
      await Promise.all(clients.map((c) => c.endAsync(true)));
      await forwarder?.close();
      await broker.dispose();
    }
  }, 90_000);
});
