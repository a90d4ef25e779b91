/**
 * The line-file sinks (events, mot-file) against a reader that stops reading: a FIFO whose
 * reading end is paused. The kernel's pipe fills, then the sink's own queue up to its bound;
 * past it the sink asks the pipeline to wait (backpressure) instead of growing or dropping.
 * Once the reader reads again, every line arrives, in order.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, type ReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventsSink } from '../../nodes/sinks/events-sink.ts';
import { motFileSink } from '../../nodes/sinks/mot-file-sink.ts';
import { FILE_IN_FLIGHT_BYTES, FILE_MAX_QUEUED_BYTES } from '../../servers/queue/queued-file.ts';
import type { QueueBacklog } from '../../servers/queue/sink-queue.ts';
import { packetOf, type FramePacket, type TrackedObject } from '../../pipeline/frame.ts';
import type { AnalyticsEvent } from '../../pipeline/analytics-types.ts';
import type { Sink } from '../../pipeline/node.ts';
import { graphContext } from '../helpers/data-dir.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'panoptes-file-sinks-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type QueuedSink = Sink & { readonly backlog: QueueBacklog };

/** A FIFO and its reading end, opened (so the sink's open does not block) and not read. */
function stalledFifo(name: string): { file: string; reader: ReadStream; text: () => Promise<string> } {
  const file = path.join(scratch, name);
  execFileSync('mkfifo', [file]);
  const reader = createReadStream(file);
  // Paused before any 'data' listener: it buffers one chunk, then the pipe fills.
  reader.pause();
  const chunks: Buffer[] = [];
  const ended = new Promise<void>((resolve, reject) => {
    reader.on('end', resolve);
    reader.on('error', reject);
  });
  return {
    file,
    reader,
    text: async () => {
      reader.on('data', (chunk: Buffer | string) => chunks.push(Buffer.from(chunk)));
      reader.resume();
      await ended;
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}

/**
 * Writes packets as the graph does, until the sink asks the pipeline to wait; checks after each
 * write that what the sink holds stays under its bound. Returns the packets and the wait.
 */
function writeUntilBehind(sink: QueuedSink, packetAt: (seq: number) => FramePacket, packetBytes: number) {
  const written: FramePacket[] = [];
  let maxHeld = 0;
  for (let seq = 0; ; seq++) {
    expect(seq, 'the sink never asked the pipeline to wait').toBeLessThan(100_000);
    const packet = packetAt(seq);
    sink.write(packet);
    written.push(packet);
    maxHeld = Math.max(maxHeld, sink.backlog.losslessBytes + sink.backlog.inFlightBytes);
    const behind = sink.backpressure?.();
    if (behind) return { written, behind, maxHeld };
    // Bounded memory: never more than the bound, the stream's share and one packet.
    expect(sink.backlog.losslessBytes).toBeLessThanOrEqual(FILE_MAX_QUEUED_BYTES + packetBytes);
  }
}

describe('events sink with a reader that stops reading', () => {
  it('holds at most its bound, then makes the pipeline wait, and loses no line', async () => {
    const fifo = stalledFifo('events.jsonl');
    const ctx = graphContext(['cam']);
    const sink = (await eventsSink.create({ path: fifo.file }, ctx)) as QueuedSink;
    // 200 line crossings a frame: about 30 KB of lines, so the bound is reached in a few hundred frames.
    const eventsOf = (seq: number): AnalyticsEvent[] =>
      Array.from({ length: 200 }, (_, k) => ({ id: `e${seq}-${k}`, type: 'line', stream: 'cam', line: 'gate', trackId: seq * 1000 + k, className: 'car', direction: 'in', ptsMs: seq * 40 }));
    const packetAt = (seq: number): FramePacket => ({
      ...packetOf({ stream: 'cam', seq, ptsMs: seq * 40, width: 4, height: 4, data: new Uint8Array(0), capturedAtMs: 0 }),
      analytics: { counts: {}, coverage: {}, unique: {}, lines: [], zones: [], events: eventsOf(seq), crowd: { persons: 0 } },
    });
    const packetBytes = eventsOf(0).reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e)) + 1, 0) + 1000;

    const { written, behind, maxHeld } = writeUntilBehind(sink, packetAt, packetBytes);
    expect(maxHeld).toBeLessThanOrEqual(FILE_MAX_QUEUED_BYTES + FILE_IN_FLIGHT_BYTES + packetBytes);

    // The reader reads again: the wait ends, and every line of every frame is there, in order.
    const text = fifo.text();
    await behind;
    expect(sink.backpressure?.()).toBeUndefined();
    await sink.close();
    const lines = (await text).trimEnd().split('\n').map((line) => JSON.parse(line) as { type?: string; seq?: number; trackId?: number });
    const frames = lines.filter((l) => l.type === undefined || !['line', 'zone'].includes(l.type));
    const crossings = lines.filter((l) => l.type === 'line');
    expect(frames.map((f) => f.seq)).toEqual(written.map((p) => p.frame.seq));
    expect(crossings.map((c) => c.trackId)).toEqual(written.flatMap((p) => p.analytics!.events.map((e) => e.trackId)));
    expect(sink.backlog).toMatchObject({ dropped: 0, errors: 0 });
  });
});

describe('mot-file sink with a reader that stops reading', () => {
  it('holds at most its bound, then makes the pipeline wait, and loses no track', async () => {
    const fifo = stalledFifo('tracks.txt');
    const ctx = graphContext(['cam']);
    const sink = (await motFileSink.create({ path: fifo.file }, ctx)) as QueuedSink;
    const tracksOf = (seq: number): TrackedObject[] =>
      Array.from({ length: 400 }, (_, k) => ({ trackId: k + 1, state: 'confirmed', classId: 1, className: 'car', bbox: [seq, k, seq + 10.5, k + 20.25], score: 0.9, ageMs: 0, hits: 1 }));
    const packetAt = (seq: number): FramePacket => ({
      ...packetOf({ stream: 'cam', seq, ptsMs: seq * 40, width: 4, height: 4, data: new Uint8Array(0), capturedAtMs: 0 }),
      tracks: tracksOf(seq),
    });
    const { written, behind, maxHeld } = writeUntilBehind(sink, packetAt, 400 * 60);
    expect(maxHeld).toBeLessThanOrEqual(FILE_MAX_QUEUED_BYTES + FILE_IN_FLIGHT_BYTES + 400 * 60);

    const text = fifo.text();
    await behind;
    await sink.close();
    const lines = (await text).trimEnd().split('\n');
    expect(lines).toHaveLength(written.length * 400);
    // Frames counted from 1, every track of every frame, in order.
    expect(lines[0]).toBe('1,1,0,0,10.5,20.25,0.9,-1,-1,-1');
    expect(lines.at(-1)).toBe(`${written.length},400,${written.length - 1},399,10.5,20.25,0.9,-1,-1,-1`);
    expect(sink.backlog).toMatchObject({ dropped: 0, errors: 0 });
  });
});

describe('a line file whose disk fails', () => {
  it('says so when closed: how much was not written, and why', async () => {
    const fifo = stalledFifo('broken.jsonl');
    const ctx = graphContext(['cam']);
    const sink = (await eventsSink.create({ path: fifo.file }, ctx)) as QueuedSink;
    // The reader goes away: writes to the FIFO fail with EPIPE.
    fifo.reader.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (let seq = 0; seq < 50; seq++) {
      sink.write(packetOf({ stream: 'cam', seq, ptsMs: seq * 40, width: 4, height: 4, data: new Uint8Array(0), capturedAtMs: 0 }));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await expect(sink.close()).rejects.toThrow(/events: .*broken\.jsonl is incomplete \(cannot send: .*EPIPE.*\); \d+ later writes were not made/);
    expect(sink.backlog.errors).toBe(1);
    // The graph logs the failure, once; the sink says why (a FIFO is not cut back: not a file).
    expect(sink.failure?.()).toMatch(/broken\.jsonl: cannot write: .*EPIPE/);
  });
});
