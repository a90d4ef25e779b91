/**
 * Recording through the real ffmpeg: the file has the overlay's size and plays in real time,
 * also when frames were dropped on the way, and when ffmpeg itself stops reading for a while.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { probeVideo } from '../../nodes/sources/probe.ts';
import { recordSink, type RecordSink } from '../../nodes/sinks/record-sink.ts';
import { packetOf } from '../../pipeline/frame.ts';
import { chainContext } from '../helpers/data-dir.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'panoptes-record-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function jpegOf(shade: number): Promise<Buffer> {
  return sharp(new Uint8Array(320 * 180 * 3).fill(shade), { raw: { width: 320, height: 180, channels: 3 } }).jpeg().toBuffer();
}

describe('record sink', () => {
  it('writes an H.264 file that lasts as long as the stream, filling dropped frames', async () => {
    const file = path.join(scratch, 'overlay.mp4');
    const ctx = chainContext({ streams: ['cam'] });
    const sink = await recordSink.create(recordSink.options.parse({ path: file, fps: 25 }), ctx);
    const jpeg = await jpegOf(90);
    // 50 frames of a 25 fps stream (2 s), of which a live pipeline only processed every third.
    for (let seq = 0; seq < 50; seq += 3) {
      const frame = { stream: 'cam', seq, ptsMs: seq * 40, width: 320, height: 180, data: new Uint8Array(0), capturedAtMs: 0 };
      sink.write({ ...packetOf(frame), overlay: { jpeg, width: 320, height: 180 } });
    }
    await sink.close();
    const info = await probeVideo(file);
    expect(info).toMatchObject({ width: 320, height: 180, codec: 'h264' });
    // Frames 0..48 span 48 * 40 ms; the last one shows for one frame more.
    expect(info.durationMs).toBeCloseTo(49 * 40, -1);
    expect(ctx.metrics.snapshot()).toEqual([]);
  });

  it('holds one waiting frame while ffmpeg stops reading, counts the frames it replaced, and records on after', async () => {
    const file = path.join(scratch, 'stalled.mp4');
    const ctx = chainContext({ streams: ['cam'] });
    const sink = (await recordSink.create(recordSink.options.parse({ path: file, fps: 25 }), ctx)) as RecordSink;
    // Noise barely compresses: about 1 MB per frame, so ffmpeg's pipe and the in-flight budget fill fast.
    const noisy = await sharp(randomBytes(640 * 480 * 3), { raw: { width: 640, height: 480, channels: 3 } }).jpeg({ quality: 100 }).toBuffer();
    const frameAt = (seq: number) => ({ stream: 'cam', seq, ptsMs: seq * 40, width: 640, height: 480, data: new Uint8Array(0), capturedAtMs: 0 });
    sink.write({ ...packetOf(frameAt(0)), overlay: { jpeg: noisy, width: 640, height: 480 } });
    // The real consumer stops: ffmpeg, this worker's child, is suspended.
    const ffmpegPid = Number(execFileSync('pgrep', ['-P', String(process.pid), 'ffmpeg'], { encoding: 'utf8' }).trim().split('\n')[0]);
    expect(ffmpegPid).toBeGreaterThan(0);
    process.kill(ffmpegPid, 'SIGSTOP');
    const frames = 200;
    let skipped = 0;
    try {
      for (let seq = 1; seq < frames; seq++) {
        sink.write({ ...packetOf(frameAt(seq)), overlay: { jpeg: noisy, width: 640, height: 480 } });
        if (seq % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        // Bounded: the in-flight budget (32 MB, and the frame that crossed it) plus one waiting frame.
        expect(sink.backlog().queuedBytes).toBeLessThanOrEqual(noisy.length);
        expect(sink.backlog().inFlightBytes).toBeLessThanOrEqual(32 * 1024 * 1024 + noisy.length);
      }
      skipped = ctx.metrics.snapshot().find((s) => s.stream === 'cam')?.skipped.record ?? 0;
      // Every frame beyond what fits in flight (and the one waiting) replaced another.
      const fitInFlight = Math.ceil((32 * 1024 * 1024) / noisy.length) + 1;
      expect(skipped).toBeGreaterThanOrEqual(frames - 1 - fitInFlight - 1);
      expect(sink.backlog().dropped).toBe(skipped);
    } finally {
      process.kill(ffmpegPid, 'SIGCONT');
    }
    await sink.close();
    // Every frame not counted as replaced is in the file, once each: the gap the stall left is
    // longer than the 2 s the recording fills, so it is cut rather than shown as a still.
    const info = await probeVideo(file);
    expect(info.durationMs).toBeCloseTo((frames - skipped) * 40, -2);
  });

  it('refuses, before the first frame, a folder or a path under a file', async () => {
    const ctx = chainContext({ streams: ['cam'] });
    await expect(recordSink.create(recordSink.options.parse({ path: scratch }), ctx)).rejects.toThrow(
      `record: cannot write ${scratch}: it is a directory; give a file name`,
    );
    const underFile = path.join(scratch, 'plain.txt');
    writeFileSync(underFile, 'not a folder');
    await expect(recordSink.create(recordSink.options.parse({ path: path.join(underFile, 'x.mp4') }), ctx)).rejects.toThrow(
      `record: cannot create ${path.join(underFile, 'x.mp4')}: ${underFile} is not a directory`,
    );
  });

  it('reports an ffmpeg that dies mid-run at once, as the sink\'s failure', async () => {
    const file = path.join(scratch, 'killed.mp4');
    const ctx = chainContext({ streams: ['cam'] });
    const sink = await recordSink.create(recordSink.options.parse({ path: file, fps: 25 }), ctx);
    const jpeg = await jpegOf(60);
    const frame = (seq: number) => ({ stream: 'cam', seq, ptsMs: seq * 40, width: 320, height: 180, data: new Uint8Array(0), capturedAtMs: 0 });
    sink.write({ ...packetOf(frame(0)), overlay: { jpeg, width: 320, height: 180 } });
    expect(sink.failure?.()).toBeUndefined();
    const ffmpegPid = Number(execFileSync('pgrep', ['-P', String(process.pid), 'ffmpeg'], { encoding: 'utf8' }).trim().split('\n')[0]);
    process.kill(ffmpegPid, 'SIGKILL');
    for (let seq = 1; sink.failure?.() === undefined; seq++) {
      expect(seq, 'the dead ffmpeg was never reported').toBeLessThan(500);
      sink.write({ ...packetOf(frame(seq)), overlay: { jpeg, width: 320, height: 180 } });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // The graph logs a sink's failure, once (test/cli/run-disk-full.test.ts); the sink says why.
    expect(sink.failure?.()).toMatch(new RegExp(`^recording ${file}: ffmpeg stopped mid-run \\(signal SIGKILL\\)`));
    await expect(sink.close()).rejects.toThrow(/ffmpeg stopped mid-run/);
  });

  it('writes no file when stopped before the first frame', async () => {
    const file = path.join(scratch, 'empty.mp4');
    const ctx = chainContext({ streams: ['cam'] });
    const sink = await recordSink.create(recordSink.options.parse({ path: file }), ctx);
    await sink.close();
    expect(existsSync(file)).toBe(false);
    expect(sink.failure?.()).toBeUndefined();
  });
});
