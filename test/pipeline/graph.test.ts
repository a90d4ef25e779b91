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
});
