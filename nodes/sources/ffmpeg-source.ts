/**
 * The video source: any file or stream ffmpeg can open, or numbered images (`img1/%06d.jpg`,
 * image-sequence.ts), decoded to RGB24 frames.
 *
 * ffmpeg runs as a child process writing raw frames to its stdout ({@link RawFrameReader} cuts
 * them); each frame is copied once, into a buffer from a pool of `poolSize`, and that pool is
 * the source's flow control: on a lossless stream ffmpeg is paused (through the pipe's own
 * backpressure) until downstream gives a buffer back; on a live one the frame is dropped here,
 * before anything spends time on it.
 *
 * A file is probed while the graph is built. A stream URL is not (unless `failFast`): a camera
 * that is down, or hangs, at start must not hold up the other streams. Its first ffmpeg says the
 * frame size in its own output header (read from its stderr), its frames are held until then, and
 * a camera that does not answer leaves the stream `waiting` (supervise-source.ts) until it does.
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
import { defer, fromEvent, Observable, of, take, takeUntil } from 'rxjs';
import { z } from 'zod';
import { BufferPool } from '../../pipeline/buffer-pool.ts';
import { packetOf, type FramePacket } from '../../pipeline/frame.ts';
import { defineSource, type ChainContext } from '../../pipeline/node.ts';
import { ffmpegPath, type ResolvedBinary } from '../../servers/ffmpeg-binary.ts';
import { imageSequenceInputOptions, isImageSequence, openImageSequence, type ImageSequence } from './image-sequence.ts';
import { isUrl, probeVideo, videoInfoFromStderr, type VideoInfo } from './probe.ts';
import { RawFrameReader } from './raw-frame-reader.ts';
import { DEFAULT_RECONNECT, reconnectOptions } from './reconnect-policy.ts';
import { superviseSource, type SourceBeat } from './supervise-source.ts';

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
      'Video file (relative paths are under the data directory), numbered images as a printf pattern (img1/%06d.jpg), ' +
        'or a stream URL (rtsp://, rtmp://, http(s)://, udp://, ...) handed to ffmpeg as is.',
    ),
  fps: z
    .number()
    .positive()
    .optional()
    .describe(
      'Frame rate of an image sequence (a uri with %d or %06d); left out, the frameRate of a MOTChallenge seqinfo.ini beside the images\' folder, else 25. Videos and streams have their own.',
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
  reconnect: z
    .union([z.literal(false), reconnectOptions])
    .optional()
    .describe(
      'Stream URLs and looping files are restarted when ffmpeg dies, ends or stalls, after an exponential backoff with jitter; false: the stream fails instead. Left out, the defaults.',
    ),
  stallTimeoutMs: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('A live source without a frame for this long is stalled (logged, counted, restarted); left out, 3 s or 5 frame intervals, whichever is longer.'),
  startTimeoutMs: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("Left out, 15 s: how long a live source's ffmpeg may take to its first frame (connecting, probing) before that counts as a stall."),
  failFast: z
    .boolean()
    .optional()
    .describe(
      'true: a stream URL is probed while the graph is built, so a camera that is not there at start fails the run at once (panoptes run --fail-fast). ' +
        'Left out: the stream starts waiting for its camera, tried with the reconnect backoff, and the other streams run meanwhile.',
    ),
});

export type FfmpegSourceOptions = z.infer<typeof ffmpegSourceOptions>;

/** What ffmpeg reads and how: a local file, numbered images, or a network stream. */
interface Input {
  /** Absolute path of a file or of an image pattern, or the URL as given. */
  readonly location: string;
  readonly live: boolean;
  /** Set when `location` is a pattern of numbered images. */
  readonly sequence?: ImageSequence;
  /** ffmpeg options before `-i` that say how to read it (image2 for a sequence). */
  readonly inputOptions: readonly string[];
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
 * `ctx.signal` aborts (the observable then completes). A stream URL or a looping file has a life
 * cycle (supervise-source.ts): when its ffmpeg dies, ends or stalls it is started again after a
 * backoff, and `seq` goes on counting where it was; the state is in the metrics and the log.
 */
export const ffmpegSource = defineSource<FfmpegSourceOptions>({
  type: 'ffmpeg',
  description: 'Decodes a video file or stream (rtsp, http, ...) with ffmpeg into RGB frames.',
  options: ffmpegSourceOptions,
  // A file played as fast as it decodes is a batch job: every frame, in order. A paced file or a
  // stream is live: the newest frame matters, and falling behind means dropping.
  lossless: (options) => !options.realtime && !isUrl(options.uri),
  async create(options, ctx) {
    const input = inputOf(options, ctx.dataDir);
    const binary = ffmpegPath();
    if (input.live && options.loop) ctx.log.warn(`${options.uri}: loop applies to files only; ignored for a stream URL`);
    if (input.live && options.failFast !== true) {
      // Not probed here: a camera that is down or hangs at start would hold up every stream.
      ctx.log.info(`${options.uri}: a stream URL, connecting (the frame size comes with its first answer), ffmpeg from ${binary.from}`);
      return decode({ options, ctx, input, known: undefined, binary });
    }
    const probed = await probeVideo(input.location, input.sequence ? { inputOptions: input.inputOptions } : {});
    // A sequence's length is its images, counted; ffmpeg's duration for one is rounded to 10 ms.
    const info: VideoInfo = input.sequence ? { ...probed, frameCount: input.sequence.frames } : probed;
    const size = outputSizeOf(info, options.resize);
    const images = input.sequence
      ? ` (${input.sequence.frames} images from ${input.sequence.firstFile}, frame rate from ${input.sequence.fpsFrom})`
      : '';
    ctx.log.info(`${describeVideo(options.uri, info, size)}${images}, ffmpeg from ${binary.from}`);
    return decode({ options, ctx, input, known: { info, size }, binary });
  },
});

function inputOf(options: FfmpegSourceOptions, dataDir: string): Input {
  const { uri, fps } = options;
  const url = isUrl(uri);
  const location = uri.toLowerCase().startsWith('file://') ? fileURLToPath(uri) : url ? uri : path.resolve(dataDir, uri);
  if (!url && isImageSequence(location)) {
    const sequence = openImageSequence(location, fps);
    return { location, live: false, sequence, inputOptions: imageSequenceInputOptions(sequence) };
  }
  if (fps !== undefined) {
    throw new Error(`${uri}: fps applies to image sequences (a uri with %06d or %d) only; a video or stream plays at its own rate — remove fps`);
  }
  return { location, live: url, inputOptions: [] };
}

function formatFps(fps: number): string {
  return String(Number(fps.toFixed(3)));
}

function describeVideo(uri: string, info: VideoInfo, size: FrameSize): string {
  const resized = size.width !== info.width || size.height !== info.height ? ` (resized to ${size.width}x${size.height})` : '';
  return `${uri}: ${info.width}x${info.height} @ ${formatFps(info.fps)} fps${resized}`;
}

interface FrameSize {
  readonly width: number;
  readonly height: number;
}

/** What is known of the video: from the probe, or, for a stream URL, from its first ffmpeg's output header. */
interface KnownVideo {
  readonly info: VideoInfo;
  readonly size: FrameSize;
}

interface DecodePlan {
  readonly options: FfmpegSourceOptions;
  readonly ctx: ChainContext;
  readonly input: Input;
  /** Undefined for a stream URL until its first ffmpeg has described it. */
  known: KnownVideo | undefined;
  readonly binary: ResolvedBinary;
}

/** fluent-ffmpeg keeps the running child on the command without declaring it; we need its pid. */
type CommandWithProcess = ffmpeg.FfmpegCommand & { ffmpegProc?: ChildProcess };

/** How many of ffmpeg's last stderr lines an error carries. */
const STDERR_TAIL_LINES = 8;

/**
 * The stall timeout a live source gets when its config names none: a few seconds, or a few frame
 * intervals of a slow camera, whichever is longer.
 */
export function defaultStallTimeoutMs(fps: number): number {
  return Math.max(DEFAULT_STALL_MS, Math.round((STALL_FRAME_INTERVALS * 1000) / fps));
}

const DEFAULT_STALL_MS = 3000;
const DEFAULT_START_TIMEOUT_MS = 15_000;
/** How long ffmpeg analyses a live stream before its first frame, in microseconds. */
const LIVE_ANALYZE_US = 1_000_000;
const STALL_FRAME_INTERVALS = 5;
/** A file is truncated when ffmpeg stops this far short of the frames its container announces. */
const TRUNCATION_TOLERANCE = 0.95;

function decode(plan: DecodePlan): Observable<FramePacket> {
  const { options, ctx, input } = plan;
  // A camera or a looping file never ends by itself: when its ffmpeg dies, it is started again.
  const restartable = input.live || options.loop;
  const reconnect = restartable && options.reconnect !== false ? (options.reconnect ?? DEFAULT_RECONNECT) : false;
  // A lossless source waits on its consumer, so a silence there is not a stall. A camera's rate,
  // hence its default, is known once it has answered.
  const stallTimeoutMs = () =>
    ctx.lossless ? undefined : (options.stallTimeoutMs ?? (plan.known ? defaultStallTimeoutMs(plan.known.info.fps) : DEFAULT_STALL_MS));
  const log = ctx.log;

  return defer(() => {
    // Shared memory: inference threads read the frame where it is, without a copy each. One pool
    // for every attempt (frames of an attempt that died may still be downstream), made once the
    // frame size is known.
    let pool: BufferPool<Uint8Array> | undefined;
    const poolFor = (size: FrameSize) => {
      const frameBytes = size.width * size.height * 3;
      pool ??= new BufferPool(() => new Uint8Array(new SharedArrayBuffer(frameBytes)), options.poolSize);
      return pool;
    };
    // Counted across attempts: seq keeps growing over restarts, and a live clock keeps running.
    const clock: StreamClock = { nextSeq: 0, firstFrameAtMs: undefined };
    let attempts = 0;
    let ran = false;
    const frames$ = superviseSource(
      () => decodeAttempt(plan, poolFor, clock, ++attempts, restartable && reconnect === false),
      { reconnect, stallTimeoutMs, startTimeoutMs: options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS },
      (change) => {
        ctx.metrics.sourceState(ctx.stream, change.state);
        switch (change.state) {
          case 'running':
            if (change.downMs !== undefined) {
              log.info(`${options.uri}: running ${ran ? 'again after' : 'at last, after'} ${Math.round(change.downMs)} ms without a frame`);
            }
            ran = true;
            break;
          case 'waiting':
            // ffmpeg's last word is enough for a line a minute while a camera stays away; the rest at debug.
            log.debug(`${options.uri}: ${change.reason ?? 'no answer'}`);
            log.warn(
              `${options.uri}: not there yet (${lastWord(options.uri, change.reason)}); waiting for it, trying again in ${change.delayMs ?? 0} ms (try ${(change.attempt ?? 1) + 1})`,
            );
            break;
          case 'stalled':
            ctx.metrics.stall(ctx.stream);
            log.warn(`${options.uri}: stalled: ${change.reason ?? ''}${reconnect === false ? '' : '; restarting it'}`);
            if (change.delayMs === undefined) break;
            // The restart's wait is told now; the state turns `reconnecting` when it begins.
            ctx.metrics.reconnect(ctx.stream);
            log.warn(`${options.uri}: ${change.reason ?? 'stalled'}; reconnecting in ${change.delayMs} ms (restart ${change.attempt ?? 1} in a row)`);
            break;
          case 'reconnecting':
            if (change.afterStall) {
              log.debug(`${options.uri}: restarting after the stall (restart ${change.attempt ?? 1} in a row)`);
              break;
            }
            ctx.metrics.reconnect(ctx.stream);
            log.warn(`${options.uri}: ${change.reason ?? 'ended'}; reconnecting in ${change.delayMs ?? 0} ms (restart ${change.attempt ?? 1} in a row)`);
            break;
          case 'failed':
            log.error(`${options.uri}: ${change.reason ?? 'failed'}`);
            break;
          default:
            break;
        }
      },
    );
    const limited$ = options.maxFrames === undefined ? frames$ : frames$.pipe(take(options.maxFrames));
    // Stopping the pipeline completes the stream (and, by unsubscribing, kills ffmpeg).
    const aborted$ = ctx.signal.aborted ? of(true) : fromEvent(ctx.signal, 'abort').pipe(take(1));
    return limited$.pipe(takeUntil(aborted$));
  });
}

/** The last line of a failure, without the URI ffmpeg puts before it: "Connection refused". */
function lastWord(uri: string, reason: string | undefined): string {
  const last = (reason ?? 'no answer').trim().split('\n').at(-1)!.trim();
  return last.startsWith(`${uri}: `) ? last.slice(uri.length + 2) : last;
}

/** Where a stream's numbering stands, kept across the attempts of one subscription. */
interface StreamClock {
  nextSeq: number;
  firstFrameAtMs: number | undefined;
}

/**
 * One ffmpeg run: emits each decoded frame (and a beat for each frame dropped at the source),
 * completes when ffmpeg has exited 0 and every byte it wrote has been read, errors when it fails.
 * Unsubscribing kills it.
 *
 * A stream URL not described yet is run at log level info: the frame size comes from ffmpeg's
 * own description of its output, on stderr, and its frames wait in the pipe until then.
 */
function decodeAttempt(
  plan: DecodePlan,
  poolFor: (size: FrameSize) => BufferPool<Uint8Array>,
  clock: StreamClock,
  attempt: number,
  endIsFailure: boolean,
): Observable<SourceBeat<FramePacket>> {
  const { options, ctx, input, binary } = plan;

  return new Observable<SourceBeat<FramePacket>>((subscriber) => {
    const stderrTail: string[] = [];
    const firstSeq = clock.nextSeq;
    const describing = plan.known === undefined;
    /** ffmpeg's stderr so far, while it describes its input and output (bounded). */
    let header = '';
    let stopped = false;
    let child: ChildProcess | undefined;
    let outputEnded = false;
    let exitedCleanly = false;
    /** The write callback held back while the reader waits for a buffer: pipe backpressure pauses ffmpeg. */
    let heldWrite: (() => void) | undefined;
    /** Output that came before the frame size was known (at most one chunk: its write is held). */
    const early: Buffer[] = [];
    let reader: RawFrameReader | undefined;

    // Done once every byte ffmpeg wrote has been read *and* it has exited 0, in either order.
    const completeIfDone = () => {
      if (!outputEnded || !exitedCleanly) return;
      const read = clock.nextSeq - firstSeq;
      if (plan.known) warnIfTruncated(options, input, plan.known.info, read, ctx);
      if (endIsFailure) {
        subscriber.error(new Error(`${options.uri}: the stream ended (ffmpeg exited 0 after ${read} frames); reconnect is off, so the stream is over`));
      } else subscriber.complete();
    };

    const ptsMsOf = (seq: number, info: VideoInfo | undefined): number => {
      if (!input.live && info) return (seq * 1000 * info.fpsDen) / info.fpsNum;
      const now = performance.now();
      clock.firstFrameAtMs ??= now;
      return now - clock.firstFrameAtMs;
    };

    const readerFor = (known: KnownVideo) => {
      const { size, info } = known;
      const frameBytes = size.width * size.height * 3;
      return new RawFrameReader({
        frameBytes,
        pool: poolFor(size),
        whenPoolFull: ctx.lossless ? 'pause' : 'drop',
        onFrame: (data, release, index) => {
          const seq = firstSeq + index;
          clock.nextSeq = seq + 1;
          ctx.metrics.decoded(ctx.stream);
          const { width, height } = size;
          const ptsMs = ptsMsOf(seq, info);
          subscriber.next({
            kind: 'frame',
            value: packetOf({ stream: ctx.stream, seq, ptsMs, width, height, data, capturedAtMs: Date.now() }, [release]),
          });
        },
        onDrop: (index) => {
          const seq = firstSeq + index;
          clock.nextSeq = seq + 1;
          ptsMsOf(seq, info); // a dropped first frame still starts a live stream's clock
          ctx.metrics.decoded(ctx.stream);
          ctx.metrics.drop(ctx.stream, 'source');
          subscriber.next({ kind: 'alive' });
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
    };

    if (plan.known) reader = readerFor(plan.known);

    const output = new Writable({
      // fluent-ffmpeg kills ffmpeg 20 ms after its output stream closes, which can beat ffmpeg's
      // own exit; this stream never emits 'close', and the end comes from the exit status.
      emitClose: false,
      write(chunk: Buffer, _encoding, done) {
        if (reader) {
          reader.push(chunk);
          if (reader.isWaitingForBuffer) heldWrite = done;
          else done();
          return;
        }
        // The size is not known yet: this chunk waits, and so does ffmpeg (its write is held).
        early.push(chunk);
        heldWrite = done;
      },
      final(done) {
        if (reader) reader.end();
        else {
          outputEnded = true;
          completeIfDone();
        }
        done();
      },
    });

    /** The stream has described itself: the frame size is known, and what waited is read. */
    const described = (known: KnownVideo) => {
      plan.known = known;
      ctx.log.info(`${describeVideo(options.uri, known.info, known.size)}`);
      reader = readerFor(known);
      const write = heldWrite;
      heldWrite = undefined;
      for (const chunk of early.splice(0)) reader.push(chunk);
      if (reader.isWaitingForBuffer) heldWrite = write;
      else write?.();
    };

    const command = buildCommand(options, input, plan.known, binary) as CommandWithProcess;

    command.on('start', (commandLine) => {
      child = command.ffmpegProc;
      ctx.log.debug(`ffmpeg started (pid ${child?.pid ?? '?'}), attempt ${attempt}: ${commandLine}`);
      // Unsubscribed while fluent-ffmpeg was still checking capabilities: the process is born now.
      if (stopped) child?.kill('SIGKILL');
    });
    command.on('stderr', (line) => {
      if (!line.trim()) return;
      if (describing && reader === undefined && !stopped && header.length < MAX_HEADER_CHARS) {
        header += `${line}\n`;
        const known = knownFromHeader(options, header);
        if (known) described(known);
      }
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

    command.pipe(output, { end: true });

    return () => {
      stopped = true;
      reader?.close();
      early.length = 0;
      // Let a paused pipe finish into the closed reader, so nothing is left hanging on it.
      const write = heldWrite;
      heldWrite = undefined;
      write?.();
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
  });
}

/** ffmpeg's stderr kept while it describes a stream, at most. */
const MAX_HEADER_CHARS = 64 * 1024;

/**
 * The video as ffmpeg described it at log level info, once it has described its output: the
 * input's first video stream (rate, size before scaling) and the size of the frames it writes.
 */
function knownFromHeader(options: FfmpegSourceOptions, header: string): KnownVideo | undefined {
  const at = header.search(/^Output #0, /m);
  if (at < 0) return undefined;
  const out = /^\s*Stream #0:\d+.*?: Video: .*?, (\d+)x(\d+)(?=[\s,]|$)/m.exec(header.slice(at));
  if (!out) return undefined;
  const size = { width: Number(out[1]), height: Number(out[2]) };
  let info: VideoInfo;
  try {
    info = videoInfoFromStderr(options.uri, header.slice(0, at));
  } catch {
    // No rate in the input's description: the output's, else 25, only for the default stall timeout.
    const fps = Number(/, (\d+(?:\.\d+)?) fps/.exec(header.slice(at))?.[1] ?? 25);
    info = { width: size.width, height: size.height, fps, fpsNum: fps, fpsDen: 1, codec: 'unknown' };
  }
  return { info, size };
}

/**
 * A file that ends well short of the frames (or the duration) its container announces was cut
 * off: decoding "succeeded", but the user must hear that the video is not whole.
 */
function warnIfTruncated(options: FfmpegSourceOptions, input: Input, info: VideoInfo, read: number, ctx: ChainContext): void {
  if (input.live || options.loop) return;
  const expected = info.frameCount ?? (info.durationMs === undefined ? undefined : Math.round((info.durationMs * info.fps) / 1000));
  if (expected === undefined || read >= expected * TRUNCATION_TOLERANCE) return;
  ctx.log.warn(
    `${input.location}: the video ended early, after ${read} of the ${expected} frames its container announces: ` +
      'the file is truncated or damaged (re-download or re-encode it)',
  );
}

function buildCommand(
  options: FfmpegSourceOptions,
  input: Input,
  known: KnownVideo | undefined,
  binary: ResolvedBinary,
): ffmpeg.FfmpegCommand {
  // Not described yet (a stream URL not probed): ffmpeg says what it reads and writes, at info.
  const logLevel = known ? ['-loglevel', 'error'] : ['-loglevel', 'info', '-nostats'];
  const inputOptions = ['-nostdin', '-hide_banner', ...logLevel, ...input.inputOptions];
  if (!input.live && options.realtime) inputOptions.push('-re');
  if (!input.live && options.loop) inputOptions.push('-stream_loop', '-1');
  // ffmpeg analyses a stream for 5 s of its time before the first frame; a live stream delivers
  // that in real time, so every (re)connect would cost 5 s. Its frames are passed through as they
  // come: one second of analysis is plenty.
  if (input.live) inputOptions.push('-analyzeduration', String(LIVE_ANALYZE_US));

  // The packaged ffmpeg is 4.1: `-vsync` (not 5.1's `-fps_mode`) sets the frame timing.
  const timing = input.live || !known ? ['-vsync', 'passthrough'] : ['-vsync', 'cfr', '-r', `${known.info.fpsNum}/${known.info.fpsDen}`];
  // Always scale to the size frames are cut at: a stream that changes resolution midway would
  // otherwise shift every frame boundary after the change. Before the size is known, the
  // resize asked for (its height as ffmpeg's even rounding, like outputSizeOf), or none.
  const scale = known
    ? `scale=${known.size.width}:${known.size.height}`
    : options.resize
      ? `scale=${options.resize.width}:${options.resize.height ?? -2}`
      : 'scale=iw:ih';

  return ffmpeg()
    .setFfmpegPath(binary.path)
    .input(input.location)
    .inputOptions(inputOptions)
    .outputOptions([
      '-map', '0:v:0',
      '-an', '-sn',
      '-vf', scale,
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
