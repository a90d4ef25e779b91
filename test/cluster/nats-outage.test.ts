/**
 * A worker cut off from NATS (the real server stopped, then started again on the same port and
 * store). Shorter than the lease period: the worker never stops its streams and keeps its leases
 * (same frames, seq going on). Longer: it stops them when the leases would expire (another
 * worker could have claimed them by then), and claims them again once NATS is back, totals
 * continuing from what was saved.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LEASE_MS } from '../../cluster/buckets.ts';
import { FrameWatch, spawnWorker, total, type WorkerProcess } from '../../testing/cluster-harness.ts';
import { startNatsServer, type LocalServer } from '../../testing/local-servers.ts';
import { dataDir } from '../helpers/data-dir.ts';
import { writeClusterConfig } from '../../testing/cluster-config.ts';

let server: LocalServer;
let nc: NatsConnection;
let folder: string;
let worker: WorkerProcess | undefined;

beforeAll(async () => {
  server = await startNatsServer();
  const { connect } = await import('@nats-io/transport-node');
  nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  folder = mkdtempSync(path.join(tmpdir(), 'panoptes-outage-'));
});

afterAll(async () => {
  if (worker && worker.child.exitCode === null) worker.child.kill('SIGKILL');
  await nc?.close();
  await server?.dispose();
  rmSync(folder, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a worker cut off from NATS', () => {
  it('keeps its streams through a short outage and claims them again after a long one', { timeout: 90_000 }, async () => {
    const config = writeClusterConfig(folder, dataDir(), { streams: 2, fps: 10 });
    const frames = new FrameWatch(nc);
    worker = spawnWorker(config, server.url, 'solo');
    const claims = () => worker!.output().match(/solo claimed/g)?.length ?? 0;
    await frames.until(() => frames.latestWorkers().size === 2, 30_000, 'frames of both streams');
    await sleep(1500);

    // Shorter than the lease period: nothing stops.
    const lastBefore = new Map(['cam1', 'cam2'].map((s) => [s, frames.frames.filter((f) => f.stream === s).at(-1)!]));
    await server.stop();
    await sleep(300);
    await server.start();
    const backAtMs = Date.now();
    await frames.until(() => ['cam1', 'cam2'].every((s) => frames.frames.some((f) => f.stream === s && f.atMs > backAtMs)), 15_000, 'frames after a short outage');
    for (const [stream, before] of lastBefore) {
      const after = frames.frames.find((f) => f.stream === stream && f.atMs > backAtMs)!;
      expect(after.worker).toBe('solo');
      // The same run of the stream: its frames went on being processed while NATS was away.
      expect(after.seq).toBeGreaterThan(before.seq);
    }
    expect(worker.output()).not.toMatch(/stopping cam/);
    expect(claims()).toBe(2);

    // Longer than the lease period: the streams stop when their leases would have expired...
    const totalsBefore = new Map(['cam1', 'cam2'].map((s) => [s, total(frames.frames.filter((f) => f.stream === s).at(-1)!.unique)]));
    await sleep(1200); // one more save of the totals
    await server.stop();
    await sleep(DEFAULT_LEASE_MS + 1500);
    expect(worker.output()).toMatch(/stopping cam1: its lease could not be renewed/);
    expect(worker.output()).toMatch(/stopping cam2: its lease could not be renewed/);
    // ...and run again once NATS is back, claimed afresh, totals going on.
    await server.start();
    const restartedAtMs = Date.now();
    await frames.until(() => ['cam1', 'cam2'].every((s) => frames.frames.some((f) => f.stream === s && f.atMs > restartedAtMs)), 20_000, 'frames after a long outage');
    expect(claims()).toBe(4);
    for (const [stream, unique] of totalsBefore) {
      const after = frames.frames.find((f) => f.stream === stream && f.atMs > restartedAtMs)!;
      expect(after.seq).toBeLessThan(50); // started again
      expect(total(after.unique)).toBeGreaterThanOrEqual(unique);
    }
    worker.child.kill('SIGINT');
    expect(await worker.exited).toBe(0);
  });
});
