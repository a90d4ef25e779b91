/**
 * The graph builder and runner: one chain per source, failures kept to their own stream, every
 * pooled buffer given back, per-frame errors skipped rather than fatal, and a frame that a stage
 * never releases reported by the watchdog without freezing the stream.
 */
import { concat, filter, interval, map, take, throwError } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ffmpegSource } from '../../nodes/sources/ffmpeg-source.ts';
import { checkConfigFile } from '../../pipeline/config/config-file.ts';
import { resolveGraphSpec } from '../../pipeline/config/resolve.ts';
import { packetOf, type FramePacket } from '../../pipeline/frame.ts';
import { frameStage } from '../../pipeline/flow/frame-stage.ts';
import { buildGraph } from '../../pipeline/graph.ts';
import { createMemoryLogger } from '../../pipeline/log.ts';
import { defineOperator, defineSink, defineSource } from '../../pipeline/node.ts';
import { NodeRegistry } from '../../pipeline/registry.ts';
import { dataDir } from '../helpers/data-dir.ts';

/** Stand-in camera that sends `frames` tiny frames, then fails as a dropped connection does. */
const flakyCamera = defineSource({
  type: 'flaky-camera',
  description: 'test stand-in: a camera that drops out',
  options: z.object({ frames: z.number().int() }),
  async create(options, ctx) {
    let released = 0;
    leases.set(ctx.stream, () => released);
    const frames$ = interval(1).pipe(
      take(options.frames),
      map((seq) =>
        packetOf({ stream: ctx.stream, seq, ptsMs: seq, width: 2, height: 1, data: new Uint8Array(6), capturedAtMs: Date.now() }, [
          () => released++,
        ]),
      ),
    );
    return concat(frames$, throwError(() => new Error('connection reset by camera')));
  },
});
const leases = new Map<string, () => number>();

/** Operator that fails on every third frame, like a decoder meeting a corrupt frame. */
const failsEveryThird = defineOperator({
  type: 'fails-every-third',
  description: 'test stand-in: fails on frames whose seq is divisible by 3',
  needs: [],
  adds: [],
  options: z.object({}),
  async create(_options, ctx) {
    return frameStage(ctx, (packet) => {
      if (packet.frame.seq % 3 === 0) throw new Error(`corrupt frame ${packet.frame.seq}`);
      return packet;
    });
  },
});

/**
 * Operator with a classic bug: it filters out one frame (the first from seq 2 on) and never
 * releases its packet. `forgotten` is told which.
 */
function forgetsAFrame(forgotten: (seq: number) => void) {
  return defineOperator({
    type: 'forgets-a-frame',
    description: 'test stand-in: filters out one frame and never releases its packet',
    needs: [],
    adds: [],
    options: z.object({}),
    async create() {
      let done = false;
      return filter<FramePacket>((packet) => {
        if (done || packet.frame.seq < 2) return true;
        done = true;
        forgotten(packet.frame.seq);
        return false;
      });
    },
  });
}

/** Operator that passes every frame on, through a real frame stage. */
const passes = defineOperator({
  type: 'passes',
  description: 'test stand-in: passes frames on',
  needs: [],
  adds: [],
  options: z.object({}),
  async create(_options, ctx) {
    return frameStage(ctx, (packet) => packet);
  },
});

/** Operator that holds each frame `ms`, recording `label seq start end` (ms) in `spans`. */
function takesTime(spans: { label: string; seq: number; start: number; end: number }[]) {
  return defineOperator({
    type: 'takes-time',
    description: 'test stand-in: holds each frame for a while',
    needs: [],
    adds: [],
    options: z.object({ ms: z.number() }),
    async create(options, ctx) {
      return frameStage(ctx, async (packet) => {
        const start = performance.now();
        await new Promise((resolve) => setTimeout(resolve, options.ms));
        spans.push({ label: ctx.label, seq: packet.frame.seq, start, end: performance.now() });
        return packet;
      });
    },
  });
}

function collectingSink(received: FramePacket[], ended: string[]) {
  return defineSink({
    type: 'collect',
    description: 'test sink: keeps what it receives',
    options: z.object({}),
    async create() {
      return {
        write: (packet) => received.push(packet),
        streamEnded: (stream, error) => ended.push(error ? `${stream}: ${error.message}` : stream),
        close: async () => {},
      };
    },
  });
}

describe('graph', () => {
  it('keeps a failing camera from hurting the other stream, and reports it', async () => {
    const received: FramePacket[] = [];
    const ended: string[] = [];
    const registry = new NodeRegistry([ffmpegSource, flakyCamera, failsEveryThird, collectingSink(received, ended)]);
    const config = checkConfigFile(
      {
        sources: [
          { id: 'clip', type: 'ffmpeg', uri: 'replay/videos/udacity_vehicle_detection_test_video.mp4', realtime: false },
          { id: 'camera', type: 'flaky-camera', frames: 5 },
        ],
        pipeline: [{ type: 'fails-every-third' }],
        sinks: [{ type: 'collect' }],
      },
      'inline',
    );
    const log = createMemoryLogger();
    const graph = await buildGraph(resolveGraphSpec(config, 'inline', registry), { dataDir: dataDir(), log });
    const outcomes = await graph.run();
    await graph.stop();

    expect(outcomes.find((o) => o.stream === 'clip')?.error).toBeUndefined();
    expect(outcomes.find((o) => o.stream === 'camera')?.error?.message).toBe('connection reset by camera');
    expect(ended.sort()).toEqual(['camera: connection reset by camera', 'clip']);
    expect(log.lines.join('\n')).toContain('stream camera failed: connection reset by camera');

    // The clip went through whole: 38 frames, less the 13 whose seq is divisible by 3.
    const clipSeqs = received.filter((p) => p.frame.stream === 'clip').map((p) => p.frame.seq);
    expect(clipSeqs).toEqual([...Array(38).keys()].filter((s) => s % 3 !== 0));
    const stats = Object.fromEntries(graph.metrics.snapshot().map((s) => [s.stream, s]));
    expect(stats.clip).toMatchObject({ decoded: 38, processed: 25, errors: 13 });
    expect(stats.camera).toMatchObject({ processed: 3, errors: 2 });
    // Every frame's buffers came back, processed or skipped.
    expect(leases.get('camera')!()).toBe(5);
    expect(log.lines.join('\n')).toMatch(/frame 0 skipped \(1 so far\): corrupt frame 0/);
  });

  it('stops a live graph on request, closing sinks and freeing sessions', async () => {
    const received: FramePacket[] = [];
    const ended: string[] = [];
    const registry = new NodeRegistry([ffmpegSource, collectingSink(received, ended)]);
    const config = checkConfigFile(
      { sources: [{ id: 'live', type: 'ffmpeg', uri: 'replay/videos/solidWhiteRight.mp4', loop: true }], sinks: [{ type: 'collect' }] },
      'inline',
    );
    const graph = await buildGraph(resolveGraphSpec(config, 'inline', registry), { dataDir: dataDir(), log: createMemoryLogger() });
    const running = graph.run();
    while (received.length < 3) await new Promise((resolve) => setTimeout(resolve, 20));
    await graph.stop();
    const outcomes = await running;
    expect(outcomes).toEqual([{ stream: 'live' }]);
  });

  it('reports a frame a stage never releases, with the stage, counts it, and lets later frames through', async () => {
    const received: FramePacket[] = [];
    let forgotten: number | undefined;
    const registry = new NodeRegistry([ffmpegSource, passes, forgetsAFrame((seq) => (forgotten = seq)), collectingSink(received, [])]);
    const config = checkConfigFile(
      {
        frameTimeoutMs: 300,
        // One frame in flight: the forgotten frame alone would hold the chain (with two, the other
        // place would let later frames through before the watchdog's time).
        maxInFlight: 1,
        sources: [{ id: 'live', type: 'ffmpeg', uri: 'replay/videos/solidWhiteRight.mp4', loop: true }],
        pipeline: [{ type: 'passes' }, { type: 'forgets-a-frame', name: 'leaky' }, { type: 'passes', name: 'after' }],
        sinks: [{ type: 'collect' }],
      },
      'inline',
    );
    const log = createMemoryLogger();
    const graph = await buildGraph(resolveGraphSpec(config, 'inline', registry), { dataDir: dataDir(), log });
    const running = graph.run();
    // With one frame in flight and no watchdog, the forgotten frame would hold the chain for ever
    // and nothing after it would ever reach the sinks.
    const laterFrames = () => received.filter((p) => forgotten !== undefined && p.frame.seq > forgotten).length;
    // Bounded, so that a frozen stream fails with the assertion below rather than a test timeout.
    for (let polls = 0; polls < 1000 && laterFrames() < 3; polls++) await new Promise((resolve) => setTimeout(resolve, 20));
    await graph.stop();
    await running;

    expect(laterFrames()).toBeGreaterThanOrEqual(3);

    const watchdogLines = log.lines.filter((line) => line.includes('[panoptes:live:watchdog]'));
    expect(watchdogLines).toHaveLength(1);
    expect(watchdogLines[0]).toMatch(
      new RegExp(`^warn  \\[panoptes:live:watchdog\\] frame ${forgotten} held by leaky for \\d+ ms \\(frameTimeoutMs 300\\): counted as a drop at watchdog, the next frame goes in$`),
    );
    expect(graph.metrics.snapshot()[0]!.drops.watchdog).toBe(1);
    expect(received.map((p) => p.frame.seq)).not.toContain(forgotten);
  });

  it('with maxInFlight 2, starts the next frame in the first stage while this one is in the next, in order, dropping only at the door', async () => {
    for (const maxInFlight of [1, 2]) {
      const spans: { label: string; seq: number; start: number; end: number }[] = [];
      const received: FramePacket[] = [];
      const registry = new NodeRegistry([flakyCamera, takesTime(spans), collectingSink(received, [])]);
      const config = checkConfigFile(
        {
          maxInFlight,
          sources: [{ id: 'cam', type: 'flaky-camera', frames: 150 }],
          pipeline: [
            { type: 'takes-time', name: 'models', ms: 15 },
            { type: 'takes-time', name: 'post', ms: 10 },
          ],
          sinks: [{ type: 'collect' }],
        },
        'inline',
      );
      const graph = await buildGraph(resolveGraphSpec(config, 'inline', registry), { dataDir: dataDir(), log: createMemoryLogger() });
      await graph.run();
      await graph.stop();
      const models = spans.filter((x) => x.label === 'models');
      const post = spans.filter((x) => x.label === 'post');
      // The next frame's models started before this frame's post-processing ended: only with two in flight.
      const overlapped = models.slice(1).filter((m, i) => post.find((p) => p.seq === models[i]!.seq) && m.start < post.find((p) => p.seq === models[i]!.seq)!.end);
      if (maxInFlight === 2) expect(overlapped.length, 'frames whose models overlapped the previous post').toBeGreaterThan(2);
      else expect(overlapped).toEqual([]);
      // Never two frames in the models at once, and the later stage sees the frames in order.
      for (let i = 1; i < models.length; i++) expect(models[i]!.start).toBeGreaterThanOrEqual(models[i - 1]!.end - 1);
      expect(post.map((x) => x.seq)).toEqual([...post.map((x) => x.seq)].sort((a, b) => a - b));
      const drops = graph.metrics.snapshot()[0]!.drops;
      expect(Object.keys(drops).filter((where) => (drops[where] ?? 0) > 0)).toEqual(['flow-limiter']);
      // A frame waits at the door, not inside the models behind another frame: it goes in as they free up.
      expect(received.length).toBeGreaterThan(3);
      expect(Math.max(...received.map((p) => p.waits?.models ?? Number.NaN))).toBeLessThan(1);
    }
  });
});
