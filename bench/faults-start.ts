/**
 * The fault bench's start-up cases (issue 19): what is down when the run starts.
 *
 * - {@link benchCameraDownAtStart}: the config's last stream is served by a {@link LiveHttpCamera}
 *   whose port has nothing listening at start; after `downMs` (10 s) the camera comes up. Held to:
 *   the other streams decode at their baseline rate from the start (the first `downMs`, against
 *   their rate once all run, ±10%), the missing one joins within its backoff + 2 s of the camera
 *   coming up, and the run stops cleanly (no stream failed: exit 0 on Ctrl-C).
 * - {@link benchBrokerDownAtStart}: an `mqtt` sink whose broker is not up for `downMs`. Held to:
 *   frames flow from the start; every event of the run reaches a subscriber once the broker is up.
 *
 * Separate from faults.bench.ts's mid-run faults, so that each case can be run alone
 * (`npx tsx bench/faults-start.ts [config]`).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectAsync } from 'mqtt';
import { builtinNodes } from '../nodes/index.ts';
import type { Graph } from '../pipeline/graph.ts';
import { loadPipeline } from '../pipeline/load.ts';
import { createMemoryLogger } from '../pipeline/log.ts';
import type { ExecutionProvider } from '../pipeline/node.ts';
import { runPipeline } from '../pipeline/run.ts';
import { LiveHttpCamera } from '../testing/faults-camera.ts';
import { FaultRun } from '../testing/faults-harness.ts';
import { forwardPort, freePort, mqttEventsConfig, startMosquitto } from '../testing/local-servers.ts';
import { round } from './stats.ts';

const RECOVERY_SLACK_MS = 2000;
const RATE_TOLERANCE = 0.1;
const TIMEOUT_MS = 60_000;
const COMPARE_MS = 10_000;

export interface CameraDownAtStart {
  readonly camera: string;
  readonly downMs: number;
  /** Frames decoded per second by each other stream while the camera was down, and once all ran. */
  readonly whileDown: Readonly<Record<string, number>>;
  readonly allRunning: Readonly<Record<string, number>>;
  /** From the camera coming up to the stream's first frame, against its backoff in effect + 2 s. */
  readonly joinMs: number;
  readonly budgetMs: number;
  readonly states: string;
  readonly failures: readonly string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** configs/multi.yaml (or `config`) with its last stream's camera down for `downMs` at start. */
export async function benchCameraDownAtStart(
  config: string,
  options: { downMs?: number; ep?: ExecutionProvider },
  progress: (line: string) => void,
): Promise<CameraDownAtStart> {
  const downMs = options.downMs ?? 10_000;
  let served = '';
  const { spec, dataDir } = loadPipeline(config, builtinNodes(), (raw) => {
    const sources = Array.isArray(raw.sources) ? (raw.sources as Record<string, unknown>[]) : [];
    if (sources.length < 2) throw new Error(`${config}: needs 2 streams or more (one camera down, the rest watched)`);
    const last = sources.at(-1)!;
    served = String(last.id);
    delete last.loop;
    raw.sinks = [{ type: 'metrics', port: 0 }];
    if (options.ep) raw.executionProviders = [options.ep];
  });
  const source = spec.sources.find((s) => s.id === served)!;
  const camera = new LiveHttpCamera(path.resolve(dataDir, String((source.options as { uri: string }).uri)), await freePort());
  (source.options as { uri: string }).uri = camera.url;
  const others = spec.sources.map((s) => s.id).filter((s) => s !== served);
  progress(`faults: ${served}'s camera down at start for ${downMs / 1000} s; ${others.join(', ')} watched`);

  const run = await FaultRun.startSpec(spec, { dataDir, echo: (line) => !line.startsWith('info') && process.stderr.write(`${line}\n`) });
  const failures: string[] = [];
  const decoded = () => new Map(run.metrics.snapshot().map((s) => [s.stream, s.decoded]));
  const rates = (before: Map<string, number>, seconds: number) =>
    Object.fromEntries(others.map((s) => [s, round(((decoded().get(s) ?? 0) - (before.get(s) ?? 0)) / seconds, 2)]));
  try {
    await run.waitFor(() => others.every((s) => run.metrics.stateOf(s) === 'running'), TIMEOUT_MS, 'the other streams running');
    await run.waitFor(() => run.metrics.stateOf(served) === 'waiting', TIMEOUT_MS, `${served} waiting`);
    // The others' rate while the camera is away: from their first frame to the camera's return.
    const downBefore = decoded();
    const downFrom = performance.now();
    await sleep(downMs);
    const whileDown = rates(downBefore, (performance.now() - downFrom) / 1000);
    const waits = () => run.lines.flatMap((line) => (line.includes(`:${served}:source]`) ? [/trying again in (\d+) ms/.exec(line)] : [])).flatMap((m) => (m ? [Number(m[1])] : []));
    await camera.start();
    const upAt = performance.now();
    await run.waitFor(() => run.metrics.stateOf(served) === 'running', TIMEOUT_MS, `${served} to join`);
    const joinMs = Math.round(performance.now() - upAt);
    const budgetMs = (waits().at(-1) ?? 0) + RECOVERY_SLACK_MS;
    progress(`faults: ${served} joined ${joinMs} ms after its camera came up (budget ${budgetMs} ms)`);
    if (joinMs > budgetMs) failures.push(`${served} joined ${joinMs} ms after its camera came up, budget ${budgetMs} ms`);
    const allBefore = decoded();
    await sleep(COMPARE_MS);
    const allRunning = rates(allBefore, COMPARE_MS / 1000);
    for (const s of others) {
      const change = (whileDown[s] ?? 0) / (allRunning[s] ?? 1) - 1;
      if (Math.abs(change) > RATE_TOLERANCE) failures.push(`${s} decoded ${whileDown[s]} fps while ${served} was down, ${allRunning[s]} once all ran`);
    }
    const states = run.metrics.seen.filter((s) => s.stream === served).map((s) => s.state).join(' → ');
    const outcomes = await run.stop();
    for (const o of outcomes) if (o.error) failures.push(`stream ${o.stream} failed: ${o.error.message}`);
    return { camera: served, downMs, whileDown, allRunning, joinMs, budgetMs, states, failures };
  } finally {
    await run.stop();
    await camera.stop();
  }
}

export interface BrokerDownAtStart {
  readonly downMs: number;
  /** Frames through the pipeline before the broker came up. */
  readonly framesBeforeBroker: number;
  /** From the broker coming up to the sink connected. */
  readonly connectMs: number;
  readonly events: number;
  readonly received: number;
  readonly failures: readonly string[];
}

/**
 * An mqtt sink whose broker comes up `downMs` after the start: MOT17-02's public detections at
 * 10 fps, tracked and counted (events at its line and zone), for `downMs` + 10 s.
 */
export async function benchBrokerDownAtStart(dataDir: string, options: { downMs?: number }, progress: (line: string) => void): Promise<BrokerDownAtStart> {
  const downMs = options.downMs ?? 10_000;
  const fps = 10;
  const broker = await startMosquitto();
  const port = await freePort();
  const folder = mkdtempSync(path.join(tmpdir(), 'panoptes-broker-down-'));
  let forwarder: { close(): Promise<void> } | undefined;
  const subscriber = await connectAsync(broker.url, { clientId: 'panoptes-bench-sub' });
  const received: string[] = [];
  subscriber.on('message', (topic, payload) => topic.endsWith('/events') && received.push(payload.toString()));
  await subscriber.subscribeAsync('bench/#', { qos: 1 });
  try {
    const eventsFile = path.join(folder, 'events.jsonl');
    const config = path.join(folder, 'broker-down.yaml');
    writeFileSync(
      config,
      mqttEventsConfig({
        dataDir,
        eventsFile,
        brokerUrl: `mqtt://127.0.0.1:${port}`,
        topicPrefix: 'bench',
        fps,
        maxFrames: Math.round(((downMs + COMPARE_MS) * fps) / 1000),
      }),
    );
    progress(`faults: an mqtt sink with its broker down for ${downMs / 1000} s at start`);
    const log = createMemoryLogger();
    const { spec, dataDir: data } = loadPipeline(config, builtinNodes());
    let graph: Graph | undefined;
    const result = runPipeline(spec, { dataDir: data, log, onStarted: (g) => (graph = g) });
    await sleep(downMs);
    const framesBeforeBroker = graph?.metrics.snapshot()[0]?.processed ?? 0;
    forwarder = await forwardPort(port, broker.port);
    const upAt = performance.now();
    const mqtt = graph!.sinks[1]!;
    while (mqtt.status?.().connected !== true && performance.now() - upAt < TIMEOUT_MS) await sleep(20);
    const connectMs = Math.round(performance.now() - upAt);
    const outcome = await result;
    const expected = readFileSync(eventsFile, 'utf8')
      .trim()
      .split('\n')
      .filter((l) => !l.includes('"type":"frame"'));
    for (let waited = 0; received.length < expected.length && waited < TIMEOUT_MS; waited += 100) await sleep(100);
    const failures: string[] = [];
    if (framesBeforeBroker < (downMs / 1000) * fps * 0.9) failures.push(`${framesBeforeBroker} frames in the ${downMs / 1000} s without a broker`);
    if (received.join('\n') !== expected.join('\n')) failures.push(`${received.length} of ${expected.length} events received, or out of order`);
    for (const o of outcome.outcomes) if (o.error) failures.push(`stream ${o.stream} failed: ${o.error.message}`);
    progress(`faults: broker down at start: ${framesBeforeBroker} frames before it came up, connected ${connectMs} ms after, ${received.length} of ${expected.length} events`);
    return { downMs, framesBeforeBroker, connectMs, events: expected.length, received: received.length, failures };
  } finally {
    await subscriber.endAsync(true);
    await forwarder?.close();
    await broker.dispose();
    rmSync(folder, { recursive: true, force: true });
  }
}

/** Both cases as lines of a report. */
export function formatStartFaults(camera: CameraDownAtStart | undefined, broker: BrokerDownAtStart | undefined): string {
  const lines: string[] = [];
  if (camera) {
    lines.push(
      `camera of ${camera.camera} down ${camera.downMs / 1000} s at start: joined ${camera.joinMs} ms after it came up (budget ${camera.budgetMs}), ${camera.states}`,
      `  others, frames in per second while it was down: ${Object.entries(camera.whileDown).map(([s, f]) => `${s} ${f}`).join(', ')}; once all ran: ${Object.entries(camera.allRunning).map(([s, f]) => `${s} ${f}`).join(', ')}`,
    );
  }
  if (broker) {
    lines.push(
      `mqtt broker down ${broker.downMs / 1000} s at start: ${broker.framesBeforeBroker} frames meanwhile, connected ${broker.connectMs} ms after it came up, ${broker.received} of ${broker.events} events received`,
    );
  }
  const failures = [...(camera?.failures ?? []), ...(broker?.failures ?? [])];
  lines.push(failures.length === 0 ? 'all within target' : `outside target:\n  ${failures.join('\n  ')}`);
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const config = process.argv[2] ?? fileURLToPath(new URL('../configs/multi.yaml', import.meta.url));
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  const camera = await benchCameraDownAtStart(config, {}, progress);
  const broker = await benchBrokerDownAtStart(loadPipeline(config, builtinNodes()).dataDir, {}, progress);
  process.stdout.write(`${formatStartFaults(camera, broker)}\n`);
}
