import { spawn } from 'node:child_process';
import { mkdir, rm, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ffmpegPath } from '../../../servers/ffmpeg-binary.ts';
import type { TimedJpeg } from './frame-ring.ts';

/**
 * Seconds added to every presentation time when it is stored as a part's modification time: a
 * time far from 0 (the epoch), which some file systems treat specially, and still exact to the
 * microsecond as a double.
 */
const MTIME_BASE_SECONDS = 1_000_000;

/** What a finished clip holds. */
export interface FinishedClip {
  readonly file: string;
  readonly frames: number;
  readonly startPtsMs: number;
  readonly endPtsMs: number;
}

/**
 * One clip: the overlay's JPEGs, as they were encoded, put into a Matroska file by ffmpeg with
 * stream copy (`-c:v copy`, no second encode), each frame at its own presentation time.
 *
 * The frames are not held in memory while the clip waits for its end: each is written at once
 * to a parts folder beside the clip (`.<name>.parts/000000.jpg`, ...), its modification time set
 * to its presentation time, and when the clip ends ffmpeg reads them back as an image sequence
 * with `-ts_from_file 2` (each picture's time from its file's time, to the nanosecond): the
 * bundled ffmpeg (2018) has no other way to give a stream of JPEGs uneven timestamps without
 * re-encoding them (its concat demuxer rounds durations to 1/25 s, `setts` came later). The
 * parts folder is removed once the clip is written, or given up.
 *
 * Memory: the frames handed to the disk and not yet written, at most `maxPendingBytes` (beyond,
 * a frame is left out and `add` says so).
 */
export class ClipWriter {
  private readonly parts: string;
  private chain: Promise<void>;
  private frames = 0;
  private pendingBytes = 0;
  private firstPtsMs: number | undefined;
  private lastPtsMs: number | undefined;
  private failedBecause: string | undefined;

  constructor(
    readonly file: string,
    private readonly maxPendingBytes: number,
  ) {
    this.parts = path.join(path.dirname(file), `.${path.basename(file)}.parts`);
    this.chain = mkdir(this.parts, { recursive: true }).then(
      () => undefined,
      (error: Error) => this.fail(error),
    );
  }

  /** Why this clip could not be written, once it could not. */
  get failure(): string | undefined {
    return this.failedBecause;
  }

  get startPtsMs(): number | undefined {
    return this.firstPtsMs;
  }

  /** Queues the frame for the disk; false when it was left out (the disk is behind, or failed). */
  add(frame: TimedJpeg): boolean {
    if (this.failedBecause !== undefined) return false;
    if (this.lastPtsMs !== undefined && frame.ptsMs <= this.lastPtsMs) return true; // already in
    if (this.pendingBytes + frame.jpeg.length > this.maxPendingBytes) return false;
    const part = path.join(this.parts, `${String(this.frames).padStart(6, '0')}.jpg`);
    this.frames++;
    this.firstPtsMs ??= frame.ptsMs;
    this.lastPtsMs = frame.ptsMs;
    this.pendingBytes += frame.jpeg.length;
    const seconds = MTIME_BASE_SECONDS + frame.ptsMs / 1000;
    this.chain = this.chain.then(async () => {
      if (this.failedBecause !== undefined) return;
      try {
        await writeFile(part, frame.jpeg);
        await utimes(part, seconds, seconds);
      } catch (error) {
        this.fail(error as Error);
      } finally {
        this.pendingBytes -= frame.jpeg.length;
      }
    });
    return true;
  }

  private fail(error: Error): void {
    this.failedBecause ??= `clip ${this.file}: ${error.message}`;
  }

  /** Writes the clip; rejects (the parts removed all the same) if it could not. */
  async finish(): Promise<FinishedClip> {
    await this.chain;
    try {
      if (this.failedBecause !== undefined) throw new Error(this.failedBecause);
      if (this.frames === 0) throw new Error(`clip ${this.file}: no frame to write`);
      await runFfmpeg([
        '-hide_banner', '-loglevel', 'error', '-y',
        '-f', 'image2', '-ts_from_file', '2', '-start_number', '0', '-i', path.join(this.parts, '%06d.jpg'),
        '-c:v', 'copy', this.file,
      ]).catch(async (error: Error) => {
        await rm(this.file, { force: true });
        throw new Error(`clip ${this.file}: ${error.message}`);
      });
      return { file: this.file, frames: this.frames, startPtsMs: this.firstPtsMs!, endPtsMs: this.lastPtsMs! };
    } catch (error) {
      this.failedBecause ??= (error as Error).message;
      throw error;
    } finally {
      await rm(this.parts, { recursive: true, force: true });
    }
  }
}

function runFfmpeg(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath().path, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.once('error', (error) => reject(new Error(`cannot run ffmpeg: ${error.message}`)));
    child.once('close', (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error(`ffmpeg ${code === null ? `stopped by ${signal}` : `exited with ${code}`}: ${stderr.trim().split('\n').slice(-3).join(' | ') || 'nothing on stderr'}`)),
    );
  });
}
