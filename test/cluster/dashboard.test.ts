/**
 * `panoptes dashboard --cluster`: the viewer protocol for every stream of a cluster, relayed from
 * the workers' NATS subjects, on one connection while a stream moves from one real worker
 * process to another; and each event's snapshot, from the NATS sink to the clients that want it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { spawnWorker, type WorkerProcess } from '../../testing/cluster-harness.ts';
import { startNatsServer, type LocalServer } from '../../testing/local-servers.ts';
import { startClusterDashboard, type ClusterDashboard } from '../../cluster/dashboard.ts';
import { binaryMessage, readBinaryMessage } from '../../nodes/sinks/viewer/frame-messages.ts';
import { natsSink } from '../../nodes/sinks/nats/nats-sink.ts';
import { packetOf, type TrackedObject } from '../../pipeline/frame.ts';
import type { LineEvent } from '../../pipeline/analytics-types.ts';
import type { SnapshotHeader } from '../../servers/viewer-protocol/protocol.ts';
import { createMemoryLogger } from '../../pipeline/log.ts';
import { dataDir, graphContext } from '../helpers/data-dir.ts';
import { writeClusterConfig } from '../../testing/cluster-config.ts';

let server: LocalServer;
let nc: NatsConnection;
let folder: string;
let dashboard: ClusterDashboard;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  server = await startNatsServer();
  const { connect } = await import('@nats-io/transport-node');
  nc = await connect({ servers: server.url });
  folder = mkdtempSync(path.join(tmpdir(), 'panoptes-dashboard-'));
  dashboard = await startClusterDashboard({ url: server.url, host: '127.0.0.1', port: 0, log: createMemoryLogger() });
});

afterAll(async () => {
  for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  await dashboard?.close();
  await nc?.close();
  await server?.dispose();
  rmSync(folder, { recursive: true, force: true });
});

interface Received {
  readonly text: { type: string; [key: string]: unknown }[];
  readonly video: { stream: string; seq: number }[];
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  for (const giveUpAt = Date.now() + timeoutMs; !condition(); ) {
    if (Date.now() > giveUpAt) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The worker named in the newest stats message for `stream`. */
const workerIn = (received: Received, stream: string) =>
  received.text
    .filter((m) => m.type === 'stats')
    .flatMap((m) => m.streams as { stream: string; worker: string }[])
    .filter((s) => s.stream === stream)
    .at(-1)?.worker;

describe('panoptes dashboard --cluster', () => {
  it('serves the page, and every stream with its worker while workers come and go', { timeout: 90_000 }, async () => {
    const page = await fetch(dashboard.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');

    const config = writeClusterConfig(folder, dataDir(), { streams: 2, fps: 10 });
    const w1 = spawnWorker(config, server.url, 'w1');
    workers.push(w1);
    await until(() => (w1.output().match(/claimed/g) ?? []).length === 2, 30_000, 'w1 to claim both streams');

    const socket = new WebSocket(`${dashboard.url.replace('http', 'ws')}/ws`);
    const received: Received = { text: [], video: [] };
    socket.on('message', (data: Buffer, isBinary) => {
      if (isBinary) received.video.push(readBinaryMessage<{ stream: string; seq: number }>(data).header);
      else received.text.push(JSON.parse(data.toString()) as Received['text'][number]);
    });
    await new Promise((resolve) => socket.once('open', resolve));
    await until(() => received.text.some((m) => m.type === 'hello'), 5000, 'hello');
    expect(received.text[0]).toMatchObject({ type: 'hello', streams: ['cam1', 'cam2'], topics: ['video', 'events', 'snapshots', 'counts', 'stats'] });
    socket.send(JSON.stringify({ type: 'subscribe', streams: ['*'], topics: ['video', 'events', 'counts', 'stats'] }));

    await until(() => workerIn(received, 'cam1') === 'w1' && workerIn(received, 'cam2') === 'w1', 10_000, 'stats naming w1');
    await until(() => received.text.some((m) => m.type === 'counts' && m.stream === 'cam2'), 5000, 'counts of cam2');
    // Overlay frames are relayed as they are (a pipeline with a renderer publishes them).
    nc.publish('panoptes.cam1.video', binaryMessage({ type: 'video', stream: 'cam1', seq: 7, ptsMs: 280, capturedAtMs: Date.now(), sentAtMs: Date.now(), width: 2, height: 2, counts: {}, segments: [] }, Buffer.from([0xff, 0xd8])));
    await until(() => received.video.some((v) => v.stream === 'cam1' && v.seq === 7), 5000, 'a video frame');

    // The streams move to w2; the same connection goes on, naming the new worker.
    const w2 = spawnWorker(config, server.url, 'w2');
    workers.push(w2);
    await until(() => w2.output().includes('joined'), 30_000, 'w2 to join');
    w1.child.kill('SIGINT');
    await until(() => workerIn(received, 'cam1') === 'w2' && workerIn(received, 'cam2') === 'w2', 20_000, 'stats naming w2');
    const movedAt = received.text.length;
    await until(() => received.text.slice(movedAt).some((m) => m.type === 'counts' && m.worker === 'w2'), 5000, 'counts from w2');
    expect(dashboard.streams()).toEqual(new Map([['cam1', 'w2'], ['cam2', 'w2']]));
    expect(socket.readyState).toBe(WebSocket.OPEN);
    socket.close();
    w2.child.kill('SIGINT');
    expect(await w2.exited).toBe(0);
  });

  it("relays each event's snapshot from the nats sink to the clients subscribed to snapshots", { timeout: 30_000 }, async () => {
    const openClient = async (topics: readonly string[]) => {
      const socket = new WebSocket(`${dashboard.url.replace('http', 'ws')}/ws`);
      const client = { socket, text: [] as { type: string }[], snapshots: [] as { header: SnapshotHeader; payload: Buffer }[], order: [] as string[] };
      socket.on('message', (data: Buffer, isBinary) => {
        if (isBinary) client.snapshots.push(readBinaryMessage<SnapshotHeader>(data));
        else client.text.push(JSON.parse(data.toString()) as { type: string });
        client.order.push(isBinary ? 'snapshot' : (client.text.at(-1)!.type));
      });
      await new Promise((resolve) => socket.once('open', resolve));
      socket.send(JSON.stringify({ type: 'subscribe', streams: ['door'], topics }));
      await until(() => client.text.some((m) => m.type === 'subscribed'), 5000, 'the subscription');
      return client;
    };
    const withSnapshots = await openClient(['events', 'snapshots']);
    const eventsOnly = await openClient(['events']);

    const sink = await natsSink.create(natsSink.options.parse({ url: server.url, worker: 'box-1' }), graphContext(['door']));
    // A snapshot is not encoded while the server is away: write once the sink has reached it.
    await until(() => sink.status?.().connected === true, 10_000, 'the sink to connect');
    const [width, height] = [320, 180];
    const overlay = await sharp({ create: { width, height, channels: 3, background: '#808080' } }).jpeg().toBuffer();
    const crossing: LineEvent = { id: 'crossing-5', type: 'line', stream: 'door', line: 'gate', trackId: 5, className: 'car', direction: 'in', ptsMs: 0 };
    const car: TrackedObject = { trackId: 5, state: 'confirmed', classId: 0, className: 'car', bbox: [100, 60, 160, 100], score: 0.9, ageMs: 400, hits: 9 };
    sink.write({
      ...packetOf({ stream: 'door', seq: 0, ptsMs: 0, width, height, data: new Uint8Array(0), capturedAtMs: Date.now() }),
      overlay: { jpeg: overlay, width, height },
      tracks: [car],
      analytics: { counts: { car: 1 }, coverage: {}, unique: { car: 1 }, lines: [], zones: [], events: [crossing], crowd: { persons: 0 } },
    });
    // Closing waits for the snapshot's encode and flushes what the sink published.
    await sink.close();

    await until(() => withSnapshots.snapshots.length === 1, 5000, 'the snapshot');
    await until(() => eventsOnly.text.some((m) => m.type === 'line'), 5000, 'the event');
    const [{ header, payload }] = withSnapshots.snapshots;
    expect(header).toEqual({ type: 'snapshot', stream: 'door', id: 'crossing-5' });
    // The box (60x40) with a margin of half its longer side (30 px) around it.
    expect(await sharp(payload).metadata()).toMatchObject({ format: 'jpeg', width: 60 + 2 * 30, height: 40 + 2 * 30 });
    expect(eventsOnly.snapshots).toEqual([]);
    // Sent once JetStream has stored its event, the picture comes after the event the page lists it under.
    expect(withSnapshots.order.filter((type) => type === 'line' || type === 'snapshot')).toEqual(['line', 'snapshot']);
    expect(sink.status?.().droppedMessages).toBe(0);
    for (const client of [withSnapshots, eventsOnly]) client.socket.close();
  });
});
