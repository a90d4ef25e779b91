import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { Logger } from '../../pipeline/log.ts';
import { defineSink, optionalSinkOption, type Sink } from '../../pipeline/node.ts';
import { ffmpegPath } from '../../servers/ffmpeg-binary.ts';
import { cutToWholeFragments } from './mp4-fragments.ts';
import { outputFileProblem } from '../../servers/output-path.ts';
import { SinkQueue, totalBacklog, type QueueBacklog } from '../../servers/queue/sink-queue.ts';

/** Bytes handed to ffmpeg's stdin and not yet taken, beyond which frames wait (and get replaced). */
const MAX_PENDING_BYTES = 32 * 1024 * 1024;
/** Frames are newest-wins: the lossless lane stays empty, its bound only has to be positive. */
const NO_LOSSLESS_MESSAGES = 1;
/** Longest gap, in seconds, filled by repeating the last frame; a longer one (a camera that
 * stalled for minutes) is cut from the recording instead of written as a still. */
const MAX_FILLED_GAP_SECONDS = 2;
/** Longest stretch of video ffmpeg holds before it writes it out as a fragment (µs): what a disk
 * that fills, or a killed recorder, can lose beyond the encoder's own few frames. */
const FRAGMENT_MICROSECONDS = 250_000;

/**
 * Records the overlaid video (the JPEGs the overlay renders) to an H.264 file through ffmpeg.
 *
 * The file plays in real time even when a live stream dropped frames: each frame is placed at
 * its own timestamp on a constant-rate timeline, repeated to fill the gaps dropped frames
 * left. Recording never slows the pipeline: frames go through the sinks' shared queue
 * (servers/queue/sink-queue.ts), newest-wins. If ffmpeg falls `MAX_PENDING_BYTES` behind, a newer frame
 * replaces the one waiting (counted as a drop at `record`), and the next frame written fills the
 * slots of the one it replaced. One file per stream; with several streams, `<name>-<stream><ext>`.
 *
 * The file is playable however the run stops: it is a fragmented MP4 (the index up front, then
 * a fragment every quarter second and at each keyframe, one a second), so what reached the disk
 * plays even if nothing finishes it. ffmpeg runs in its own process group, so Ctrl-C in a
 * terminal (SIGINT to the whole foreground group) reaches Panoptes only; Panoptes then closes
 * ffmpeg's input and waits for it to write the last fragment and exit. If Panoptes itself is
 * killed, ffmpeg sees its input end and finishes the file the same way. If the disk fills (or
 * ffmpeg dies), the file is cut back to its last whole fragment, so it decodes to its end
 * without an error, and the sink fails (`failure`): the graph logs it once and stops the run,
 * exit 1, unless the sink says `optional: true`. A path that cannot be written fails before the
 * first frame.
 *
 * ```yaml
 * sinks:
 *   - { type: record, path: out/overlay.mp4 }
 * ```
 */
export interface RecordSink extends Sink {
  /** The recorders' queues added up: bytes waiting for ffmpeg, drops and write errors. */
  backlog(): QueueBacklog;
}

export const recordSink = defineSink({
  type: 'record',
  description: 'Records the rendered overlay video to an MP4 file with ffmpeg.',
  options: z.object({
    path: z.string().describe('Video file to write (.mp4); with several streams, one file per stream beside it'),
    fps: z.number().positive().default(25).describe('Frame rate of the recording'),
    optional: optionalSinkOption,
  }),
  async create(options, ctx): Promise<RecordSink> {
    const recorders = new Map<string, Recorder>();
    try {
      for (const stream of ctx.streams) {
        const { dir, name, ext } = path.parse(options.path);
        const file = path.resolve(ctx.streams.length === 1 ? options.path : path.join(dir, `${name}-${stream}${ext}`));
        const problem = outputFileProblem(file);
        if (problem) throw new Error(`record: ${problem}`);
        recorders.set(stream, new Recorder(file, options.fps, ctx.log, () => ctx.metrics.skip(stream, 'record')));
        ctx.log.info(`recording ${stream} to ${file}`);
      }
    } catch (error) {
      // The graph never gets this sink to close: stop what was already started.
      for (const recorder of recorders.values()) recorder.abort();
      throw error;
    }
    return {
      write(packet) {
        const recorder = recorders.get(packet.frame.stream);
        if (recorder && packet.overlay) recorder.add(packet.overlay.jpeg, packet.frame.ptsMs);
      },
      backlog: () => totalBacklog(recorders.values()),
      failure: () => [...recorders.values()].find((r) => r.failure !== undefined)?.failure,
      async close() {
        await Promise.all([...recorders.values()].map((r) => r.finish()));
      },
    };
  },
});

/** A frame placed on the recording's timeline: slot `index` of a constant-rate video. */
interface TimedFrame {
  readonly jpeg: Buffer;
  readonly index: number;
}

/** One ffmpeg process turning JPEGs on a timeline into an H.264 file. */
class Recorder {
  private readonly ffmpeg: ChildProcessWithoutNullStreams;
  private readonly exited: Promise<number | null>;
  private readonly queue: SinkQueue<TimedFrame>;
  private stderr = '';
  /** The last slot taken by a frame offered (the timeline's dense frames are skipped on it). */
  private lastOfferedIndex = -1;
  /** The last slot written to ffmpeg. */
  private lastWrittenIndex = -1;
  /** The last slot ffmpeg has taken from its input (what a failure can at most have kept). */
  private lastTakenIndex = -1;
  private firstPtsMs: number | undefined;
  /** Set once Panoptes closes ffmpeg's input: an exit after that is the expected one. */
  private finishing = false;
  private failedBecause: string | undefined;

  constructor(
    private readonly file: string,
    private readonly fps: number,
    private readonly log: Logger,
    onDrop: () => void,
  ) {
    this.ffmpeg = spawn(ffmpegPath().path, [
      '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'image2pipe', '-framerate', String(fps), '-c:v', 'mjpeg', '-i', '-',
      // H.264 wants even sizes; yuv420p plays everywhere.
      '-vf', 'scale=trunc(iw/2)*2:trunc(ih/2)*2', '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p',
      // A keyframe a second, for seeking; few frames held inside the encoder (a short lookahead,
      // threads by slices rather than by frames), so little is lost when the disk fills.
      '-g', String(Math.max(1, Math.round(fps))), '-x264-params', 'sliced-threads=1:rc-lookahead=5',
      // Fragmented: the index first, then each fragment written (and flushed) as it is done, so
      // the file plays up to its last fragment however it ends (a full disk, a kill).
      '-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-frag_duration', String(FRAGMENT_MICROSECONDS),
      '-flush_packets', '1', file,
      // Its own process group: a terminal's Ctrl-C must not stop it before Panoptes has finished
      // the file (an mp4 cut off before its moov atom does not play).
    ], { detached: true });
    this.ffmpeg.stderr.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-2000)));
    // A write after ffmpeg died fails with EPIPE; the exit below says why, once.
    this.ffmpeg.stdin.on('error', (error) => this.log.debug(`recording ${file}: ${error.message}`));
    // A failed spawn must be a logged error of this sink, never an exception that stops the process.
    this.ffmpeg.on('error', (error) => this.fail(`cannot run ffmpeg: ${error.message}`));
    this.exited = new Promise((resolve) =>
      this.ffmpeg.once('close', (code, signal) => {
        if (this.finishing) return resolve(code);
        // Failed only once the file is cut back to what plays: the run may stop right after.
        const why = `ffmpeg stopped mid-run (${code === null ? `signal ${signal}` : `exit code ${code}`}): ${this.stderrTail() || 'nothing on stderr'}`;
        void this.keepWholeFragments().then((kept) => {
          this.fail(`${why}${kept}`);
          resolve(code);
        });
      }),
    );
    // The JPEG is not copied: ffmpeg's stdin holds the same buffer however many slots it fills.
    this.queue = new SinkQueue<TimedFrame>({
      transmit: (frame, taken) => this.writeFrame(frame, taken),
      byteLength: (frame) => frame.jpeg.length,
      inFlightBytes: MAX_PENDING_BYTES,
      maxQueuedBytes: NO_LOSSLESS_MESSAGES,
      overflow: 'cut',
      onDrop,
      // A write that failed because ffmpeg died: its exit says why better than EPIPE does.
      onCut: (reason, cause) => (cause === 'error' ? void this.exited.then(() => this.fail(reason)) : this.fail(reason)),
    });
  }

  get backlog(): QueueBacklog {
    return this.queue.backlog;
  }

  /** Why this recording failed, once it has. */
  get failure(): string | undefined {
    return this.failedBecause;
  }

  /** Logs the failure at once, and stops feeding ffmpeg. */
  private fail(reason: string): void {
    if (this.failedBecause !== undefined) return;
    this.failedBecause = `recording ${this.file}: ${reason}`;
    // The graph reports the failure (Sink.failure), once.
    this.log.debug(`${this.failedBecause}; nothing more is recorded`);
    this.queue.close();
  }

  /** After ffmpeg stopped without finishing: the file cut back to its last whole fragment. */
  private async keepWholeFragments(): Promise<string> {
    const handed = `${((this.lastTakenIndex + 1) / this.fps).toFixed(2)} s of video had reached ffmpeg`;
    try {
      const { bytes, cut } = await cutToWholeFragments(this.file);
      return `; ${handed}; the file keeps its whole fragments (${bytes} bytes${cut ? ', a cut-off one removed' : ''})`;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return `; ${handed}; no file was written`;
      return `; ${handed}; the file could not be checked: ${(error as Error).message}`;
    }
  }

  private stderrTail(): string {
    return this.stderr.trim().split('\n').slice(-3).join(' | ');
  }

  /** Places the frame on the timeline; a frame still waiting for ffmpeg is replaced by it. */
  add(jpeg: Buffer, ptsMs: number): void {
    this.firstPtsMs ??= ptsMs;
    const index = Math.round(((ptsMs - this.firstPtsMs) * this.fps) / 1000);
    if (index <= this.lastOfferedIndex) return; // denser than the recording's rate: this slot is filled
    this.lastOfferedIndex = index;
    this.queue.offerLatest('frame', { jpeg, index });
  }

  /** Writes the frame into its slot, repeated over the slots since the last one written. */
  private writeFrame({ jpeg, index }: TimedFrame, taken: (error?: Error | null) => void): void {
    const gap = this.lastWrittenIndex < 0 ? 1 : index - this.lastWrittenIndex;
    const copies = gap > MAX_FILLED_GAP_SECONDS * this.fps ? 1 : gap;
    this.lastWrittenIndex = index;
    for (let i = 1; i < copies; i++) this.ffmpeg.stdin.write(jpeg);
    this.ffmpeg.stdin.write(jpeg, (error) => {
      if (!error) this.lastTakenIndex = index;
      taken(error);
    });
  }

  /** Stops at once, writing nothing more (a sink whose set-up failed half way). */
  abort(): void {
    this.finishing = true;
    this.ffmpeg.kill('SIGKILL');
  }

  async finish(): Promise<void> {
    await this.queue.drained();
    this.queue.close();
    this.finishing = true;
    if (this.lastWrittenIndex < 0 && this.failedBecause === undefined) {
      // Stopped before the first frame: nothing to record, and ffmpeg given no input fails. No
      // file rather than a file that does not play.
      this.ffmpeg.kill('SIGKILL');
      await this.exited;
      await rm(this.file, { force: true });
      this.log.info(`recording ${this.file}: no frame reached the recorder; no file written`);
      return;
    }
    this.ffmpeg.stdin.end();
    const code = await this.exited;
    if (this.failedBecause !== undefined) throw new Error(this.failedBecause);
    if (code !== 0) {
      // The disk filled while ffmpeg wrote the last fragment: what is whole still plays.
      this.failedBecause = `recording ${this.file}: ffmpeg exited with ${code}: ${this.stderrTail()}${await this.keepWholeFragments()}`;
      throw new Error(this.failedBecause);
    }
  }
}
