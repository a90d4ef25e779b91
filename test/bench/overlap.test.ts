/**
 * Correctness of the overlapped pipeline (issue 7), on the default config and the real models:
 * in lossless mode frames leave in order and none is lost, and what comes out equals what a
 * strictly serial run gives on the same decoded frames (one frame in the graph at a time), and
 * what the same operators give chained one after the other instead of in a parallel block.
 * No timing is asserted: figures belong in `panoptes bench`.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Observable } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { builtinNodes } from '../../nodes/index.ts';
import { frameRecord } from '../../nodes/sinks/frame-record.ts';
import { ffmpegSource, ffmpegSourceOptions } from '../../nodes/sources/ffmpeg-source.ts';
import { packetOf, releasePacket, type Frame, type FramePacket } from '../../pipeline/frame.ts';
import { buildGraph } from '../../pipeline/graph.ts';
import { loadPipeline } from '../../pipeline/load.ts';
import { createMemoryLogger } from '../../pipeline/log.ts';
import { defineSink, defineSource, type SinkNode, type SourceNode } from '../../pipeline/node.ts';
import { chainContext } from '../helpers/data-dir.ts';

const CONFIG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../configs/dashcam.yaml');
const FRAMES = 30;

/** What a frame came out as: everything but timings, latency and the rendered JPEG (its panel shows fps). */
interface Outcome {
  readonly stream: string;
  readonly seq: number;
  readonly ptsMs: number;
  readonly counts: unknown;
  readonly segments: unknown;
  readonly tracks: unknown;
  readonly classMap: string;
  readonly segmentMap: string;
  readonly semantic: string;
  readonly instances: number;
}

interface Run {
  readonly outcomes: Outcome[];
  /** Largest number of frames decoded but not yet out of the graph, seen when a frame came out. */
  readonly maxInFlight: number;
  readonly decoded: number;
  readonly processed: number;
  readonly dropped: number;
  readonly errors: number;
  readonly failures: string[];
}

const hash = (data: ArrayBufferView) =>
  createHash('sha1').update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)).digest('hex');

/** Keeps a copy of what matters of each packet (the maps are pooled: hashed at once). */
function collectingSink(outcomes: Outcome[], inFlight: number[]): SinkNode<unknown> {
  return defineSink<unknown>({
    type: 'collect',
    description: 'test sink: keeps a digest of every packet',
    options: z.object({}),
    async create(_options, ctx) {
      return {
        write(packet: FramePacket) {
          const stats = ctx.metrics.snapshot().find((s) => s.stream === packet.frame.stream);
          // The graph counts a frame as processed after the sinks, so this one is still in flight.
          inFlight.push((stats?.decoded ?? 0) - (stats?.processed ?? 0));
          const record = frameRecord(packet);
          outcomes.push({
            stream: record.stream,
            seq: record.seq,
            ptsMs: record.ptsMs,
            counts: record.counts,
            segments: record.segments,
            tracks: structuredClone(packet.tracks),
            classMap: hash(packet.panoptic!.classMap),
            segmentMap: hash(packet.panoptic!.segmentMap),
            semantic: hash(packet.semantic!.labels),
            instances: packet.instances!.count,
          });
        },
        close: async () => {},
      };
    },
  }) as SinkNode<unknown>;
}

/**
 * Test stand-in for the camera: replays decoded frames strictly one at a time. The next frame is
 * emitted only when the previous one's lease is given back, i.e. when it has left the graph, so
 * no two frames are ever inside the graph together: every stage runs serially.
 */
function serialReplay(frames: readonly Frame[]): SourceNode<unknown> {
  return defineSource<unknown>({
    type: 'serial-replay',
    description: 'test stand-in: replays frames one at a time, each after the previous left the graph',
    options: z.object({}),
    lossless: () => true,
    async create(_options, ctx) {
      return new Observable<FramePacket>((subscriber) => {
        let stopped = false;
        const emit = (i: number) => {
          if (stopped) return;
          if (i === frames.length) return subscriber.complete();
          const frame = frames[i]!;
          const lease = () => setImmediate(() => emit(i + 1));
          ctx.metrics.decoded(ctx.stream);
          subscriber.next(packetOf({ ...frame, stream: ctx.stream, data: frame.data.slice(), capturedAtMs: Date.now() }, [lease]));
        };
        emit(0);
        return () => {
          stopped = true;
        };
      });
    },
  }) as SourceNode<unknown>;
}

/** The default pipeline with its parallel blocks unfolded: the same operators, one after the other. */
function chained(pipeline: unknown): unknown[] {
  return (pipeline as Record<string, unknown>[]).flatMap((entry) => (Array.isArray(entry.parallel) ? (entry.parallel as unknown[]) : [entry]));
}

/** Runs configs/dashcam.yaml with `editSources` applied and the collecting sink as its only sink. */
async function runDefaultGraph(
  extraSource: SourceNode<unknown> | undefined,
  editSources: (sources: Record<string, unknown>[]) => void,
  editPipeline: (pipeline: unknown) => unknown = (pipeline) => pipeline,
): Promise<Run> {
  const outcomes: Outcome[] = [];
  const inFlight: number[] = [];
  const registry = builtinNodes().register(collectingSink(outcomes, inFlight));
  if (extraSource) registry.register(extraSource);
  const { spec, dataDir } = loadPipeline(
    CONFIG,
    registry,
    (raw) => {
      const sources = raw.sources as Record<string, unknown>[];
      editSources(sources);
      raw.pipeline = editPipeline(raw.pipeline);
      raw.sinks = [{ type: 'collect' }];
    },
  );
  const log = createMemoryLogger();
  const graph = await buildGraph(spec, { dataDir, log });
  try {
    const results = await graph.run();
    const [stats] = graph.metrics.snapshot();
    return {
      outcomes,
      maxInFlight: Math.max(...inFlight),
      decoded: stats?.decoded ?? 0,
      processed: stats?.processed ?? 0,
      dropped: stats?.dropped ?? 0,
      errors: stats?.errors ?? 0,
      failures: results.filter((r) => r.error).map((r) => r.error!.message),
    };
  } finally {
    await graph.stop();
  }
}

/** The first `FRAMES` frames exactly as the ffmpeg source decodes them for the default config. */
async function decodeWithSource(uri: string): Promise<Frame[]> {
  const ctx = chainContext({ stream: 'dashcam', label: 'source' });
  const options = ffmpegSourceOptions.parse({ uri, realtime: false, loop: true, maxFrames: FRAMES });
  const frames$ = await ffmpegSource.create(options, ctx);
  const frames: Frame[] = [];
  await new Promise<void>((resolve, reject) =>
    frames$.subscribe({
      next: (packet) => {
        frames.push({ ...packet.frame, data: packet.frame.data.slice() });
        releasePacket(packet);
      },
      error: reject,
      complete: resolve,
    }),
  );
  ctx.abort();
  return frames;
}

describe('overlapped pipeline (default config, lossless)', () => {
  let overlapped: Run;
  let uri: string;

  beforeAll(async () => {
    overlapped = await runDefaultGraph(undefined, (sources) => {
      expect(sources).toHaveLength(1);
      uri = sources[0]!.uri as string;
      sources[0]!.realtime = false; // --no-realtime
      sources[0]!.maxFrames = FRAMES;
    });
  });

  it('lets every frame out, in order, none lost or dropped', () => {
    expect(overlapped.failures).toEqual([]);
    expect(overlapped.outcomes.map((o) => o.seq)).toEqual(Array.from({ length: FRAMES }, (_, i) => i));
    expect(overlapped.outcomes.every((o) => o.stream === 'dashcam')).toBe(true);
    expect(overlapped.decoded).toBe(FRAMES);
    expect(overlapped.processed).toBe(FRAMES);
    expect(overlapped.dropped).toBe(0);
    expect(overlapped.errors).toBe(0);
    // Stages did overlap: more than one frame was inside the graph at once.
    expect(overlapped.maxInFlight).toBeGreaterThan(1);
  });

  it('gives the same output with the models one after the other instead of side by side', async () => {
    const sideBySide = loadPipeline(CONFIG, builtinNodes()).spec.pipeline.filter((step) => 'parallel' in step);
    expect(sideBySide).toHaveLength(1); // the default config does run its models in a parallel block
    const oneAfterTheOther = await runDefaultGraph(
      undefined,
      (sources) => {
        sources[0]!.realtime = false;
        sources[0]!.maxFrames = FRAMES;
      },
      chained,
    );
    expect(oneAfterTheOther.failures).toEqual([]);
    expect(oneAfterTheOther.outcomes).toHaveLength(FRAMES);
    for (let i = 0; i < FRAMES; i++) {
      expect(overlapped.outcomes[i], `frame ${i}`).toEqual(oneAfterTheOther.outcomes[i]);
    }
  });

  it('gives the same output as a serial run on the same frames', async () => {
    const frames = await decodeWithSource(uri);
    expect(frames.map((f) => f.seq)).toEqual(Array.from({ length: FRAMES }, (_, i) => i));
    const serial = await runDefaultGraph(serialReplay(frames), (sources) => {
      sources.splice(0, sources.length, { id: 'dashcam', type: 'serial-replay' });
    });
    expect(serial.failures).toEqual([]);
    // The stand-in really was serial: one frame in the graph at a time.
    expect(serial.maxInFlight).toBe(1);
    expect(serial.outcomes).toHaveLength(FRAMES);
    // Not vacuous: the clip has cars and road.
    expect(serial.outcomes.some((o) => o.instances > 0)).toBe(true);
    for (let i = 0; i < FRAMES; i++) {
      expect(overlapped.outcomes[i], `frame ${i}`).toEqual(serial.outcomes[i]);
    }
  });
});
