/**
 * Three real `panoptes run --cluster` workers share six light streams on a real nats-server:
 * a worker killed with -9 has its streams running elsewhere within the lease period plus one
 * heartbeat, with their totals going on; a joining worker steals nothing; a worker stopped with
 * SIGINT hands its streams over at once; through the crash no stream's frames come from two
 * workers in the same second, and at a clean hand-over the old worker's last frame comes before
 * the new one's first.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LEASE_MS } from '../../cluster/buckets.ts';
import { FrameWatch, savedTotals, spawnWorker, total, watchLeases, type LeaseChange, type WorkerProcess } from '../../testing/cluster-harness.ts';
import { startNatsServer, type LocalServer } from '../../testing/local-servers.ts';
import { dataDir } from '../helpers/data-dir.ts';
import { writeClusterConfig } from '../../testing/cluster-config.ts';

const LEASE_MS = DEFAULT_LEASE_MS;
const HEARTBEAT_MS = LEASE_MS / 3;
const STREAMS = 6;

let server: LocalServer;
let nc: NatsConnection;
let folder: string;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  server = await startNatsServer();
  const { connect } = await import('@nats-io/transport-node');
  nc = await connect({ servers: server.url });
  folder = mkdtempSync(path.join(tmpdir(), 'panoptes-cluster-'));
});

afterAll(async () => {
  for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  await nc?.close();
  await server?.dispose();
  rmSync(folder, { recursive: true, force: true });
});

const held = (watch: FrameWatch, worker: string, sinceMs: number) =>
  [...watch.latestWorkers(sinceMs)].filter(([, w]) => w === worker).map(([s]) => s).sort();

describe('panoptes run --cluster, three workers, six streams', () => {
  it('survives kill -9 and a clean stop, keeps totals, never runs a stream twice', { timeout: 90_000 }, async () => {
    const config = writeClusterConfig(folder, dataDir(), { streams: STREAMS, fps: 10 });
    const frames = new FrameWatch(nc);
    const spawn = (name: string) => {
      const worker = spawnWorker(config, server.url, name);
      workers.push(worker);
      return worker;
    };
    const [w1, w2, w3] = ['w1', 'w2', 'w3'].map(spawn) as [WorkerProcess, WorkerProcess, WorkerProcess];
    const log = () => workers.map((w) => `--- ${w.name}\n${w.output()}`).join('\n');

    // Started together, the workers spread the streams: two each.
    await frames.until(() => frames.latestWorkers().size === STREAMS, 30_000, 'frames of every stream').catch((e: Error) => {
      throw new Error(`${e.message}\n${log()}`);
    });
    const startedAtMs = Date.now();
    const leases: LeaseChange[] = await watchLeases(nc);
    await frames.until(() => Date.now() - startedAtMs > LEASE_MS, 10_000, 'a lease period of running');
    for (const w of [w1, w2, w3]) expect(held(frames, w.name, Date.now() - 500), log()).toHaveLength(2);

    // kill -9: w1's leases expire, the others claim its streams.
    const orphans = held(frames, 'w1', Date.now() - 500);
    const before = await savedTotals(nc);
    expect(orphans.every((s) => total(before.get(s)?.unique) > 0), 'totals were saved before the crash').toBe(true);
    const killedAtMs = Date.now();
    w1.child.kill('SIGKILL');
    await frames.until(
      () => orphans.every((s) => frames.frames.some((f) => f.stream === s && f.atMs > killedAtMs && f.worker !== 'w1')),
      20_000,
      `${orphans.join(', ')} running again`,
    );
    for (const stream of orphans) {
      const claim = leases.find((c) => c.stream === stream && c.worker !== undefined && c.worker !== 'w1' && c.atMs > killedAtMs);
      expect(claim, `${stream} claimed by another worker`).toBeDefined();
      // The server's own time stamp of the claim: within the lease period plus one heartbeat.
      expect(claim!.atMs - killedAtMs).toBeLessThanOrEqual(LEASE_MS + HEARTBEAT_MS + 250);
      // Totals go on from what was saved, not from zero.
      const first = frames.frames.find((f) => f.stream === stream && f.atMs > killedAtMs && f.worker !== 'w1')!;
      const saved = before.get(stream)!;
      expect(total(first.unique)).toBeGreaterThanOrEqual(total(saved.unique));
      expect(total(first.lines?.middle?.in) + total(first.lines?.middle?.out)).toBeGreaterThanOrEqual(
        total(saved.lines.middle?.in) + total(saved.lines.middle?.out),
      );
    }
    expect(held(frames, 'w2', Date.now() - 500).length + held(frames, 'w3', Date.now() - 500).length).toBe(STREAMS);

    // A worker that joins takes no stream that runs fine.
    const w4 = spawn('w4');
    await frames.until(() => w4.output().includes('joined'), 20_000, 'w4 to join');
    const joinedAtMs = Date.now();
    await frames.until(() => Date.now() - joinedAtMs > 2 * HEARTBEAT_MS + 500, 10_000, 'two heartbeats');
    expect(frames.frames.some((f) => f.worker === 'w4')).toBe(false);

    // Up to here, through the crash: never two workers on one stream in the same second.
    expect(frames.sameSecondOverlaps(startedAtMs + LEASE_MS)).toEqual([]);

    // SIGINT: w2 hands its streams back at once, and w4 (below its share) takes them.
    const handedBack = held(frames, 'w2', Date.now() - 500);
    const stoppedAtMs = Date.now();
    w2.child.kill('SIGINT');
    expect(await w2.exited).toBe(0);
    await frames.until(
      () => handedBack.every((s) => frames.frames.some((f) => f.stream === s && f.atMs > stoppedAtMs && f.worker !== 'w2')),
      15_000,
      `${handedBack.join(', ')} running again after a clean stop`,
    );
    for (const stream of handedBack) {
      const release = leases.find((c) => c.stream === stream && c.worker === undefined && c.atMs >= stoppedAtMs - 50);
      const claim = leases.find((c) => c.stream === stream && c.worker !== undefined && c.worker !== 'w2' && c.atMs > stoppedAtMs);
      expect(release, `${stream} handed back`).toBeDefined();
      // Claimed on the hand-back, not when a lease would have expired.
      expect(claim!.atMs - release!.atMs).toBeLessThan(LEASE_MS);
      // One after the other: w2 stopped before it handed back, so nothing of it comes after the new worker's first frame.
      const takeover = frames.frames.findIndex((f) => f.stream === stream && f.atMs > stoppedAtMs && f.worker !== 'w2');
      expect(frames.frames.slice(takeover).filter((f) => f.stream === stream && f.worker === 'w2')).toEqual([]);
    }
    expect(w2.output()).toMatch(/w2 left, handing back/);

    for (const w of [w3, w4]) w.child.kill('SIGINT');
    expect(await w3.exited).toBe(0);
    expect(await w4.exited).toBe(0);
  });
});
