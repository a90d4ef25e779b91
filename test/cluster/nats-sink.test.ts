/**
 * The NATS sink in a single-process run, against a real nats-server: frame records are the
 * `--events` frame lines plus the worker's name, counts and stats come per stream, and line and
 * zone events are kept by JetStream for a subscriber that was not there while they happened.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, type LocalServer } from '../../testing/local-servers.ts';
import { builtinNodes } from '../../nodes/index.ts';
import { EVENTS_STREAM } from '../../servers/nats/subjects.ts';
import { loadPipeline } from '../../pipeline/load.ts';
import { createMemoryLogger } from '../../pipeline/log.ts';
import { runPipeline } from '../../pipeline/run.ts';
import { dataDir } from '../helpers/data-dir.ts';

let server: LocalServer;
let nc: NatsConnection;
let folder: string;

beforeAll(async () => {
  server = await startNatsServer();
  const { connect } = await import('@nats-io/transport-node');
  nc = await connect({ servers: server.url });
  folder = mkdtempSync(path.join(tmpdir(), 'panoptes-nats-sink-'));
});

afterAll(async () => {
  await nc?.close();
  await server?.dispose();
  rmSync(folder, { recursive: true, force: true });
});

describe('nats sink', () => {
  it('publishes frames, counts and stats per stream, and events durably', { timeout: 60_000 }, async () => {
    const eventsFile = path.join(folder, 'events.jsonl');
    const config = path.join(folder, 'nats.yaml');
    writeFileSync(
      config,
      [
        `dataDir: ${JSON.stringify(dataDir())}`,
        'sources:',
        '  - { id: cam1, type: mot-detections, path: replay/sequences/MOT17-02-FRCNN, realtime: true, fps: 100, maxFrames: 250 }',
        'pipeline:',
        '  - { type: tracker, highScore: 0.5, lowScore: 0.1, newTrackScore: 0.6, confirmAfter: { frames: 2 } }',
        '  - type: analytics',
        '    lines: [{ name: middle, points: [[0.5, 0], [0.5, 1]], in: right }]',
        '    zones: [{ name: left, polygon: [[0, 0], [0.5, 0], [0.5, 1], [0, 1]], inertiaFrames: 2 }]',
        'sinks:',
        `  - { type: events, path: ${JSON.stringify(eventsFile)} }`,
        `  - { type: nats, url: ${JSON.stringify(server.url)}, worker: box-1 }`,
        '',
      ].join('\n'),
    );
    const seen = new Map<string, string[]>();
    const subscription = nc.subscribe('panoptes.cam1.*');
    void (async () => {
      for await (const m of subscription) {
        const kind = m.subject.split('.')[2]!;
        seen.set(kind, [...(seen.get(kind) ?? []), m.string()]);
      }
    })();
    const { spec, dataDir: data } = loadPipeline(config, builtinNodes());
    const result = await runPipeline(spec, { dataDir: data, log: createMemoryLogger() });
    expect(result.outcomes.every((o) => !o.error)).toBe(true);
    await nc.flush();

    const lines = readFileSync(eventsFile, 'utf8').trim().split('\n');
    const frameLines = lines.filter((l) => l.startsWith('{"type":"frame"'));
    const eventLines = lines.filter((l) => !l.startsWith('{"type":"frame"'));
    // The same record as the events file, with the worker's name.
    expect((seen.get('frames') ?? []).map((t) => JSON.parse(t) as Record<string, unknown>)).toEqual(
      frameLines.map((l) => ({ ...(JSON.parse(l) as Record<string, unknown>), worker: 'box-1' })),
    );
    const counts = (seen.get('counts') ?? []).map((t) => JSON.parse(t) as { type: string; worker: string; seq: number });
    expect(counts).toHaveLength(frameLines.length);
    expect(counts.every((c) => c.type === 'counts' && c.worker === 'box-1')).toBe(true);
    const stats = (seen.get('stats') ?? []).map((t) => JSON.parse(t) as { stream: string; worker: string; processed: number });
    expect(stats.length).toBeGreaterThan(0);
    expect(stats.every((s) => s.stream === 'cam1' && s.worker === 'box-1')).toBe(true);

    // A subscriber that comes afterwards still gets every event, from JetStream.
    expect(eventLines.length).toBeGreaterThan(0);
    const { jetstream } = await import('@nats-io/jetstream');
    const consumer = await jetstream(nc).consumers.get(EVENTS_STREAM) // (only cam1 publishes here);
    const stored: unknown[] = [];
    const messages = await consumer.consume();
    for await (const m of messages) {
      stored.push(m.json());
      if (stored.length === eventLines.length || m.info.pending === 0) break;
    }
    expect(stored).toEqual(eventLines.map((l) => ({ ...(JSON.parse(l) as Record<string, unknown>), worker: 'box-1' })));
  });

  it('refuses a stream id that cannot be a subject token', async () => {
    const { spec, dataDir: data } = loadPipeline(path.join(folder, 'nats.yaml'), builtinNodes(), (raw) => {
      (raw.sources as Record<string, unknown>[])[0]!.id = 'front.door';
      raw.sinks = [{ type: 'nats', url: server.url }];
    });
    await expect(runPipeline(spec, { dataDir: data, log: createMemoryLogger() })).rejects.toThrow(/stream id "front.door" cannot be a NATS subject token.*"front-door"/);
  });
});
