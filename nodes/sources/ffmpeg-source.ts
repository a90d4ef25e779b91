/**
 * The video source: any file or stream ffmpeg can open, decoded to RGB24 frames.
 *
 * ffmpeg runs as a child process writing raw frames to its stdout ({@link RawFrameReader} cuts
 * them); each frame is copied once, into a buffer from a pool of `poolSize`, and that pool is
 * the source's flow control: on a lossless stream ffmpeg is paused (through the pipe's own
 * backpressure) until downstream gives a buffer back; on a live one the frame is dropped here,
 * before anything spends time on it.
 *
 * Files are decoded at a constant frame rate (`-vsync cfr -r <probed rate>`), so frame `seq` is
 * at exactly `seq * 1000 / fps` ms whatever the container's timestamps look like; network streams
 * are passed through as they come and stamped with the time since their first frame.
 */
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import ffmpeg from 'fluent-ffmpeg';
import { Observable } from 'rxjs';
import { z } from 'zod';
import { BufferPool } from '../../pipeline/buffer-pool.ts';
import { packetOf, type FramePacket } from '../../pipeline/frame.ts';
import { defineSource, type ChainContext } from '../../pipeline/node.ts';
import { ffmpegPath, type ResolvedBinary } from './ffmpeg-binary.ts';
import { isUrl, probeVideo, type VideoInfo } from './probe.ts';
import { RawFrameReader } from './raw-frame-reader.ts';

const resizeSchema = z.strictObject({
  width: z.number().int().positive().describe('Output width in pixels.'),
  height: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Output height in pixels; left out, it follows the aspect ratio (rounded to an even number).'),
});

export const ffmpegSourceOptions = z.strictObject({
  uri: z
    .string()
    .min(1)
    .describe(
      'Video file (relative paths are under the data directory) or a stream URL (rtsp://, rtmp://, http(s)://, udp://, ...) handed to ffmpeg as is.',
    ),
  realtime: z
    .boolean()
    .default(true)
    .describe('Play a file at its own frame rate (ffmpeg -re); false decodes as fast as the pipeline takes frames. Stream URLs are always real time.'),
  loop: z.boolean().default(false).describe('Start a file over when it ends (ffmpeg -stream_loop -1); ignored for stream URLs.'),
  resize: resizeSchema.optional().describe('Scale frames in ffmpeg before they enter the pipeline.'),
  maxFrames: z.number().int().positive().optional().describe('Complete after emitting this many frames, and stop ffmpeg.'),
  poolSize: z
    .number()
    .int()
    .min(1)
    // Each stage holds at most one running and one waiting frame, so about two per stage are
    // alive in a live stream; with fewer buffers the source would drop the newest frame.
    .default(12)
    .describe('Frame buffers that may be in flight downstream at once; when all are out, the source waits (lossless) or drops (live).'),
});

export type FfmpegSourceOptions = z.infer<typeof ffmpegSourceOptions>;

/** What ffmpeg reads and how: a local file, or a network stream. */
interface Input {
  /** Absolute path of a file, or the URL as given. */
  readonly location: string;
  readonly live: boolean;
}

/** The output frame size for `resize`; a lone width keeps the aspect ratio with an even height. */
export function outputSizeOf(
  source: { readonly width: number; readonly height: number },
  resize: FfmpegSourceOptions['resize'],
): { width: number; height: number } {
  if (!resize) return { width: source.width, height: source.height };
  // Even, like ffmpeg's own `scale=W:-2`, so the frames can be encoded as yuv420p later on.
  const height = resize.height ?? Math.max(2, Math.round((resize.width * source.height) / source.width / 2) * 2);
  return { width: resize.width, height };
}

/**
 * Decodes a video file or stream with ffmpeg into {@link FramePacket}s of RGB24 frames.
 *
 * `create` probes the input, so a missing or unreadable clip fails while the graph is built.
 * Each subscription runs its own ffmpeg, which is killed when the subscriber unsubscribes or
 * `ctx.signal` aborts (the observable then completes).
 */
export const ffmpegSource = defineSource<FfmpegSourceOptions>({
  type: 'ffmpeg',
  description: 'Decodes a video file or stream (rtsp, http, ...) with ffmpeg into RGB frames.',
  options: ffmpegSourceOptions,
  // A file played as fast as it decodes is a batch job: every frame, in order. A paced file or a
  // stream is live: the newest frame matters, and falling behind means dropping.
  lossless: (options) => !options.realtime && !isUrl(options.uri),
  async create(options, ctx) {
    const input = inputOf(options.uri, ctx.dataDir);
    const info = await probeVideo(input.location);
    const binary = ffmpegPath();
    const size = outputSizeOf(info, options.resize);
    const resized = size.width !== info.width || size.height !== info.height ? ` (resized to ${size.width}x${size.height})` : '';
    ctx.log.info(
      `${options.uri}: ${info.width}x${info.height} @ ${formatFps(info.fps)} fps${resized}, ffmpeg from ${binary.from}`,
    );
    if (input.live && options.loop) ctx.log.warn(`${options.uri}: loop applies to files only; ignored for a stream URL`);
    return decode({ options, ctx, input, info, size, binary });
  },
});

function inputOf(uri: string, dataDir: string): Input {
  if (uri.toLowerCase().startsWith('file://')) return { location: fileURLToPath(uri), live: false };
  if (isUrl(uri)) return { location: uri, live: true };
  return { location: path.resolve(dataDir, uri), live: false };
}

function formatFps(fps: number): string {
  return String(Number(fps.toFixed(3)));
}

interface DecodePlan {
  readonly options: FfmpegSourceOptions;
  readonly ctx: ChainContext;
  readonly input: Input;
  readonly info: VideoInfo;
  readonly size: { readonly width: number; readonly height: number };
  readonly binary: ResolvedBinary;
}

/** fluent-ffmpeg keeps the running child on the command without declaring it; we need its pid. */
type CommandWithProcess = ffmpeg.FfmpegCommand & { ffmpegProc?: ChildProcess };

/** How many of ffmpeg's last stderr lines an error carries. */
const STDERR_TAIL_LINES = 8;

function decode({ options, ctx, input, info, size, binary }: DecodePlan): Observable<FramePacket> {
  const frameBytes = size.width * size.height * 3;

  return new Observable<FramePacket>((subscriber) => {
    if (ctx.signal.aborted) {
      subscriber.complete();
      return;
    }

    // Shared memory: inference threads read the frame where it is, without a copy each.
    const pool = new BufferPool(() => new Uint8Array(new SharedArrayBuffer(frameBytes)), options.poolSize);
    const stderrTail: string[] = [];
    let emitted = 0;
    let firstFrameAtMs: number | undefined;
    let stopped = false;
    let child: ChildProcess | undefined;
    let outputEnded = false;
    let exitedCleanly = false;
    /** The write callback held back while the reader waits for a buffer: pipe backpressure pauses ffmpeg. */
    let heldWrite: (() => void) | undefined;

    // Done once every byte ffmpeg wrote has been read *and* it has exited 0, in either order.
    const completeIfDone = () => {
      if (outputEnded && exitedCleanly) subscriber.complete();
    };

    const ptsMsOf = (seq: number): number => {
      if (!input.live) return (seq * 1000 * info.fpsDen) / info.fpsNum;
      const now = performance.now();
      firstFrameAtMs ??= now;
      return now - firstFrameAtMs;
    };

    const reader = new RawFrameReader({
      frameBytes,
      pool,
      whenPoolFull: ctx.lossless ? 'pause' : 'drop',
      onFrame: (data, release, seq) => {
        ctx.metrics.decoded(ctx.stream);
        const { width, height } = size;
        const ptsMs = ptsMsOf(seq);
        subscriber.next(packetOf({ stream: ctx.stream, seq, ptsMs, width, height, data, capturedAtMs: Date.now() }, [release]));
        emitted++;
        if (options.maxFrames !== undefined && emitted >= options.maxFrames) subscriber.complete();
      },
      onDrop: (seq) => {
        ptsMsOf(seq); // a dropped first frame still starts a live stream's clock
        ctx.metrics.decoded(ctx.stream);
        ctx.metrics.drop(ctx.stream, 'source');
      },
      resumeProducer: () => {
        const write = heldWrite;
        heldWrite = undefined;
        write?.();
      },
      onEnd: (trailingBytes) => {
        if (trailingBytes > 0) {
          ctx.log.warn(
            `${options.uri}: ffmpeg's output ended inside a frame (${trailingBytes} of ${frameBytes} bytes); that frame is discarded`,
          );
        }
        outputEnded = true;
        completeIfDone();
      },
    });

    const output = new Writable({
      // fluent-ffmpeg kills ffmpeg 20 ms after its output stream closes, which can beat ffmpeg's
      // own exit; this stream never emits 'close', and the end comes from the exit status.
      emitClose: false,
      write(chunk: Buffer, _encoding, done) {
        reader.push(chunk);
        if (reader.isWaitingForBuffer) heldWrite = done;
        else done();
      },
      final(done) {
        reader.end();
        done();
      },
    });

    const command = buildCommand(options, input, info, size, binary) as CommandWithProcess;

    command.on('start', (commandLine) => {
      child = command.ffmpegProc;
      ctx.log.debug(`ffmpeg started (pid ${child?.pid ?? '?'}): ${commandLine}`);
      // Unsubscribed while fluent-ffmpeg was still checking capabilities: the process is born now.
      if (stopped) child?.kill('SIGKILL');
    });
    command.on('stderr', (line) => {
      if (!line.trim()) return;
      stderrTail.push(line.trim());
      if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
      ctx.log.debug(`ffmpeg: ${line}`);
    });
    command.on('error', (err) => {
      if (stopped) return; // our own kill, after unsubscribe, completion or abort
      subscriber.error(ffmpegFailure(options.uri, err, stderrTail));
    });
    command.on('end', () => {
      exitedCleanly = true;
      completeIfDone();
    });

    const onAbort = () => subscriber.complete();
    ctx.signal.addEventListener('abort', onAbort, { once: true });

    command.pipe(output, { end: true });

    return () => {
      stopped = true;
      ctx.signal.removeEventListener('abort', onAbort);
      reader.close();
      // Let a paused pipe finish into the closed reader, so nothing is left hanging on it.
      const write = heldWrite;
      heldWrite = undefined;
      write?.();
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
  });
}

function buildCommand(
  options: FfmpegSourceOptions,
  input: Input,
  info: VideoInfo,
  size: { readonly width: number; readonly height: number },
  binary: ResolvedBinary,
): ffmpeg.FfmpegCommand {
  const inputOptions = ['-nostdin', '-hide_banner', '-loglevel', 'error'];
  if (!input.live && options.realtime) inputOptions.push('-re');
  if (!input.live && options.loop) inputOptions.push('-stream_loop', '-1');

  // The packaged ffmpeg is 4.1: `-vsync` (not 5.1's `-fps_mode`) sets the frame timing.
  const timing = input.live ? ['-vsync', 'passthrough'] : ['-vsync', 'cfr', '-r', `${info.fpsNum}/${info.fpsDen}`];

  return ffmpeg()
    .setFfmpegPath(binary.path)
    .input(input.location)
    .inputOptions(inputOptions)
    .outputOptions([
      '-map', '0:v:0',
      '-an', '-sn',
      // Always scale to the size frames are cut at: a stream that changes resolution midway
      // would otherwise shift every frame boundary after the change.
      '-vf', `scale=${size.width}:${size.height}`,
      ...timing,
      '-pix_fmt', 'rgb24',
    ])
    .format('rawvideo');
}

function ffmpegFailure(uri: string, err: Error, stderrTail: readonly string[]): Error {
  // fluent-ffmpeg words it "ffmpeg exited with code 1: <its pick of stderr>"; the status is enough.
  const status = /ffmpeg (exited with code -?\d+|was killed with signal \w+)/.exec(err.message)?.[1] ?? err.message;
  const tail = stderrTail.length > 0 ? `\n  ${stderrTail.join('\n  ')}` : ' (nothing on stderr)';
  return new Error(`ffmpeg failed reading ${uri}: ${status}; last lines of its stderr:${tail}`, { cause: err });
}
