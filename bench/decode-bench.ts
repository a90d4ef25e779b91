/**
 * Decode alone: each of the config's sources through its own source node (for a file, the
 * ffmpeg source with `realtime: false`), every frame released the moment it arrives, so nothing
 * downstream holds ffmpeg back.
 */
import { releasePacket, type Frame } from '../pipeline/frame.ts';
import type { Logger } from '../pipeline/log.ts';
import { PipelineMetrics } from '../pipeline/metrics.ts';
import type { ChainContext } from '../pipeline/node.ts';
import type { GraphSpec } from '../pipeline/config/resolve.ts';
import { round } from './stats.ts';

export interface DecodeResult {
  readonly stream: string;
  readonly frames: number;
  /** From subscribing (ffmpeg process start included) to the last frame. */
  readonly seconds: number;
  readonly fps: number;
  /** Frames/s from the first frame to the last, without the process start. */
  readonly steadyFps: number;
  readonly firstFrameMs: number;
}

type SourceSpec = GraphSpec['sources'][number];

function sourceContext(spec: GraphSpec, source: SourceSpec, dataDir: string, log: Logger, signal: AbortSignal): ChainContext {
  const values = new Map<string, Promise<unknown>>();
  return {
    log: log.child(`${source.id}:source`),
    metrics: new PipelineMetrics(),
    dataDir,
    signal,
    executionProviders: spec.executionProviders,
    inferenceSchedule: spec.inferenceSchedule,
    streams: spec.sources.map((s) => s.id),
    shared: <T>(key: string, create: () => Promise<T>) => {
      let value = values.get(key) as Promise<T> | undefined;
      if (!value) values.set(key, (value = create()));
      return value;
    },
    stream: source.id,
    lossless: source.node.lossless?.(source.options) ?? false,
    label: 'source',
    position: 0,
  };
}

/**
 * Decodes one source to its end (its `maxFrames`). `keepFirst` receives a copy of the first
 * frame, for the inference benchmark's prepared tensor.
 */
export async function decodeSource(
  spec: GraphSpec,
  source: SourceSpec,
  dataDir: string,
  log: Logger,
  keepFirst?: (frame: Frame) => void,
): Promise<DecodeResult> {
  const abort = new AbortController();
  const ctx = sourceContext(spec, source, dataDir, log, abort.signal);
  const frames$ = await source.node.create(source.options, ctx);
  let frames = 0;
  let firstAt = 0;
  let lastAt = 0;
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    frames$.subscribe({
      next: (packet) => {
        lastAt = performance.now();
        if (frames === 0) {
          firstAt = lastAt;
          keepFirst?.({ ...packet.frame, data: packet.frame.data.slice() });
        }
        frames++;
        releasePacket(packet);
      },
      error: reject,
      complete: resolve,
    });
  });
  abort.abort();
  const seconds = (lastAt - started) / 1000;
  return {
    stream: source.id,
    frames,
    seconds: round(seconds, 2),
    fps: round(frames / seconds, 1),
    steadyFps: frames > 1 ? round(((frames - 1) * 1000) / (lastAt - firstAt), 1) : Number.NaN,
    firstFrameMs: round(firstAt - started, 0),
  };
}

/** Every source alone, one after the other; then, with several sources, all at once. */
export async function benchDecode(
  spec: GraphSpec,
  dataDir: string,
  log: Logger,
): Promise<{ perSource: DecodeResult[]; allAtOnce?: { frames: number; seconds: number; fps: number }; firstFrame?: Frame }> {
  let firstFrame: Frame | undefined;
  const perSource: DecodeResult[] = [];
  for (const source of spec.sources) {
    perSource.push(await decodeSource(spec, source, dataDir, log, (f) => (firstFrame ??= f)));
  }
  if (spec.sources.length < 2) return { perSource, firstFrame };
  const started = performance.now();
  const together = await Promise.all(spec.sources.map((s) => decodeSource(spec, s, dataDir, log)));
  const seconds = (performance.now() - started) / 1000;
  const frames = together.reduce((a, r) => a + r.frames, 0);
  return { perSource, allAtOnce: { frames, seconds: round(seconds, 2), fps: round(frames / seconds, 1) }, firstFrame };
}
