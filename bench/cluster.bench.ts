/**
 * The cluster's figures, on a nats-server of its own and real worker processes (six light
 * streams: MOT17-02 public detections, tracked and counted, no model):
 * - time for a crashed worker's streams (kill -9) to run again elsewhere, median of 5;
 * - the same after a clean stop (SIGINT), median of 5;
 * - messages per second one worker publishes with 6 streams, at 30 and at 100 frames/s each.
 *
 *   npx tsx bench/cluster.bench.ts [--json]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { writeClusterConfig } from '../testing/cluster-config.ts';
import { FrameWatch, spawnWorker, watchLeases, type LeaseChange, type WorkerProcess } from '../testing/cluster-harness.ts';
import { startNatsServer } from '../testing/local-servers.ts';

const STREAMS = 6;
const RUNS = 5;
const dataDir = process.env.PANOPTES_DATA ?? path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../shared');

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Recovery {
  /** From the signal to the first frame of the last of the worker's streams from another worker. */
  readonly framesMs: number;
  /** From the signal to the last of the claims (the server's time stamps). */
  readonly claimsMs: number;
}

/** Stops the busiest worker with `signal` and measures until its streams run elsewhere. */
async function recoverOnce(
  frames: FrameWatch,
  leases: LeaseChange[],
  workers: Map<string, WorkerProcess>,
  signal: NodeJS.Signals,
  respawn: (name: string) => WorkerProcess,
): Promise<Recovery> {
  await frames.until(() => frames.latestWorkers(Date.now() - 400).size === STREAMS, 30_000, 'every stream running');
  const held = new Map<string, string[]>();
  for (const [stream, worker] of frames.latestWorkers(Date.now() - 400)) held.set(worker, [...(held.get(worker) ?? []), stream]);
  const [victim, streams] = [...held].sort((a, b) => b[1].length - a[1].length)[0]!;
  const stoppedAt = Date.now();
  workers.get(victim)!.child.kill(signal);
  await frames.until(
    () => streams.every((s) => frames.frames.some((f) => f.stream === s && f.atMs > stoppedAt && f.worker !== victim)),
    30_000,
    `${streams.join(', ')} running again`,
  );
  const firstFrames = streams.map((s) => frames.frames.find((f) => f.stream === s && f.atMs > stoppedAt && f.worker !== victim)!.atMs);
  const claims = streams.map((s) => leases.find((c) => c.stream === s && c.worker !== undefined && c.worker !== victim && c.atMs > stoppedAt - 50)?.atMs ?? NaN);
  await workers.get(victim)!.exited;
  // Back to three workers before the next run: the new process has joined and had a heartbeat.
  const replacement = respawn(victim);
  workers.set(victim, replacement);
  await frames.until(() => replacement.output().includes('joined'), 60_000, `${victim} to join again`);
  await sleep(1500);
  return { framesMs: Math.max(...firstFrames) - stoppedAt, claimsMs: Math.max(...claims) - stoppedAt };
}

async function messagesPerSecond(url: string, nc: NatsConnection, folder: string, fps: number): Promise<number> {
  const config = writeClusterConfig(folder, dataDir, { streams: STREAMS, fps });
  let count = 0;
  const subscription = nc.subscribe('panoptes.>', { callback: () => void count++ });
  const worker = spawnWorker(config, url, 'solo');
  while (count === 0) await sleep(50);
  // Counted once every stream has started (the first second is graph start-up).
  await sleep(1000);
  const startCount = count;
  const startAt = Date.now();
  await sleep(5000);
  const rate = ((count - startCount) * 1000) / (Date.now() - startAt);
  subscription.unsubscribe();
  worker.child.kill('SIGINT');
  await worker.exited;
  return rate;
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const progress = (line: string) => void process.stderr.write(`cluster bench: ${line}\n`);
  const server = await startNatsServer();
  const folder = mkdtempSync(path.join(tmpdir(), 'panoptes-cluster-bench-'));
  const { connect } = await import('@nats-io/transport-node');
  const nc = await connect({ servers: server.url });
  try {
    const config = writeClusterConfig(folder, dataDir, { streams: STREAMS, fps: 10 });
    const frames = new FrameWatch(nc);
    const workers = new Map<string, WorkerProcess>();
    const spawn = (name: string) => spawnWorker(config, server.url, name);
    for (const name of ['w1', 'w2', 'w3']) workers.set(name, spawn(name));
    await frames.until(() => frames.latestWorkers().size === STREAMS, 60_000, 'every stream running');
    const leases = await watchLeases(nc);
    const crash: Recovery[] = [];
    for (let i = 0; i < RUNS; i++) {
      crash.push(await recoverOnce(frames, leases, workers, 'SIGKILL', spawn));
      progress(`kill -9 #${i + 1}: streams running again after ${crash.at(-1)!.framesMs} ms (claimed after ${crash.at(-1)!.claimsMs} ms)`);
    }
    const clean: Recovery[] = [];
    for (let i = 0; i < RUNS; i++) {
      clean.push(await recoverOnce(frames, leases, workers, 'SIGINT', spawn));
      progress(`SIGINT #${i + 1}: streams running again after ${clean.at(-1)!.framesMs} ms (claimed after ${clean.at(-1)!.claimsMs} ms)`);
    }
    for (const w of workers.values()) w.child.kill('SIGINT');
    await Promise.all([...workers.values()].map((w) => w.exited));
    await sleep(3500); // the leases of the last worker stopped by a signal are gone

    const paced = await messagesPerSecond(server.url, nc, folder, 30);
    progress(`one worker, ${STREAMS} streams at 30 fps: ${paced.toFixed(0)} messages/s`);
    const fast = await messagesPerSecond(server.url, nc, folder, 100);
    progress(`one worker, ${STREAMS} streams at 100 fps: ${fast.toFixed(0)} messages/s`);

    const result = {
      crashRecoveryMs: { median: median(crash.map((r) => r.framesMs)), claimMedian: median(crash.map((r) => r.claimsMs)), runs: crash },
      cleanStopRecoveryMs: { median: median(clean.map((r) => r.framesMs)), claimMedian: median(clean.map((r) => r.claimsMs)), runs: clean },
      messagesPerSecond: { at30fps: Math.round(paced), at100fps: Math.round(fast) },
    };
    if (json) console.log(JSON.stringify({ cluster: result }));
    else {
      console.log(`recovery after kill -9:   median ${result.crashRecoveryMs.median} ms to frames again (claims after ${result.crashRecoveryMs.claimMedian} ms)`);
      console.log(`recovery after SIGINT:    median ${result.cleanStopRecoveryMs.median} ms to frames again (claims after ${result.cleanStopRecoveryMs.claimMedian} ms)`);
      console.log(`messages/s, 1 worker, ${STREAMS} streams: ${result.messagesPerSecond.at30fps} at 30 fps, ${result.messagesPerSecond.at100fps} at 100 fps`);
    }
  } finally {
    await nc.close();
    await server.dispose();
    rmSync(folder, { recursive: true, force: true });
  }
}

await main();
