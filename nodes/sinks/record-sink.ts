import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { Logger } from '../../pipeline/log.ts';
import { defineSink } from '../../pipeline/node.ts';
import { ffmpegPath } from '../sources/ffmpeg-binary.ts';

/** Bytes waiting in ffmpeg's stdin beyond which frames are skipped rather than queued. */
const MAX_PENDING_BYTES = 32 * 1024 * 1024;
/** Longest gap, in seconds, filled by repeating the last frame; a longer one (a camera that
 * stalled for minutes) is cut from the recording instead of written as a still. */
const MAX_FILLED_GAP_SECONDS = 2;

/**
 * Records the overlaid video (the JPEGs the overlay renders) to an H.264 file through ffmpeg.
 *
 * The file plays in real time even when a live stream dropped frames: each frame is placed at
 * its own timestamp on a constant-rate timeline, repeated to fill the gaps dropped frames
 * left. Recording never slows the pipeline: if ffmpeg falls behind, frames are skipped and
 * counted as drops at `record`. One file per stream; with several streams, `<name>-<stream><ext>`.
 *
 * ```yaml
 * sinks:
 *   - { type: record, path: out/overlay.mp4 }
 * ```
 */
export const recordSink = defineSink({
  type: 'record',
  description: 'Records the rendered overlay video to an MP4 file with ffmpeg.',
  options: z.object({
    path: z.string().describe('Video file to write (.mp4); with several streams, one file per stream beside it'),
    fps: z.number().positive().default(25).describe('Frame rate of the recording'),
  }),
  async create(options, ctx) {
    const recorders = new Map<string, Recorder>();
    try {
      for (const stream of ctx.streams) {
        const { dir, name, ext } = path.parse(options.path);
        const file = path.resolve(ctx.streams.length === 1 ? options.path : path.join(dir, `${name}-${stream}${ext}`));
        await mkdir(path.dirname(file), { recursive: true });
        recorders.set(stream, new Recorder(file, options.fps, ctx.log));
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
        if (!recorder || !packet.overlay) return;
        if (!recorder.add(packet.overlay.jpeg, packet.frame.ptsMs)) ctx.metrics.skip(packet.frame.stream, 'record');
      },
      async close() {
        await Promise.all([...recorders.values()].map((r) => r.finish()));
      },
    };
  },
});

/** One ffmpeg process turning JPEGs on a timeline into an H.264 file. */
class Recorder {
  private readonly ffmpeg: ChildProcessWithoutNullStreams;
  private readonly exited: Promise<number | null>;
  private stderr = '';
  private lastIndex = -1;
  private firstPtsMs: number | undefined;
  private pendingBytes = 0;

  constructor(
    private readonly file: string,
    private readonly fps: number,
    private readonly log: Logger,
  ) {
    this.ffmpeg = spawn(ffmpegPath().path, [
      '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'image2pipe', '-framerate', String(fps), '-c:v', 'mjpeg', '-i', '-',
      // H.264 wants even sizes; yuv420p plays everywhere.
      '-vf', 'scale=trunc(iw/2)*2:trunc(ih/2)*2', '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p',
      '-movflags', '+faststart', file,
    ]);
    this.ffmpeg.stderr.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-2000)));
    this.ffmpeg.stdin.on('error', (error) => this.log.error(`recording ${file}: ${error.message}`));
    // A failed spawn must be a logged error of this sink, never an exception that stops the process.
    this.ffmpeg.on('error', (error) => this.log.error(`recording ${file}: cannot run ffmpeg: ${error.message}`));
    this.exited = new Promise((resolve) => this.ffmpeg.once('close', resolve));
  }

  /** Places the frame on the timeline; false when ffmpeg is too far behind and it was skipped. */
  add(jpeg: Buffer, ptsMs: number): boolean {
    this.firstPtsMs ??= ptsMs;
    const index = Math.round(((ptsMs - this.firstPtsMs) * this.fps) / 1000);
    if (index <= this.lastIndex) return true; // denser than the recording's rate: this slot is filled
    if (this.pendingBytes > MAX_PENDING_BYTES) return false;
    const gap = this.lastIndex < 0 ? 1 : index - this.lastIndex;
    const copies = gap > MAX_FILLED_GAP_SECONDS * this.fps ? 1 : gap;
    this.lastIndex = index;
    for (let i = 0; i < copies; i++) {
      this.pendingBytes += jpeg.length;
      this.ffmpeg.stdin.write(jpeg, () => (this.pendingBytes -= jpeg.length));
    }
    return true;
  }

  /** Stops at once, writing nothing more (a sink whose set-up failed half way). */
  abort(): void {
    this.ffmpeg.kill('SIGKILL');
  }

  async finish(): Promise<void> {
    this.ffmpeg.stdin.end();
    const code = await this.exited;
    if (code !== 0) throw new Error(`recording ${this.file}: ffmpeg exited with ${code}: ${this.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
}
