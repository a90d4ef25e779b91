import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ffmpegPath } from '../../servers/ffmpeg-binary.ts';
import { fractionOf, isUrl, probeVideo } from '../../nodes/sources/probe.ts';
import { dataDir } from '../helpers/data-dir.ts';
import { noise } from '../helpers/noise.ts';

const videos = path.join(dataDir(), 'replay/videos');
const scratch = mkdtempSync(path.join(tmpdir(), 'panoptes-probe-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('probeVideo', () => {
  it('describes an mp4 clip', async () => {
    const info = await probeVideo(path.join(videos, 'solidWhiteRight.mp4'));
    expect(info).toMatchObject({ width: 960, height: 540, fps: 25, fpsNum: 25, fpsDen: 1, frameCount: 221, codec: 'h264' });
    expect(info.durationMs).toBeCloseTo(8840, 0);
  });

  it("takes a GIF's frame rate from r_frame_rate (its avg_frame_rate is an early estimate)", async () => {
    const info = await probeVideo(path.join(videos, 'intel_worker-zone-detection_preview.gif'));
    expect(info).toMatchObject({ width: 480, height: 270, fps: 15, fpsNum: 15, fpsDen: 1, codec: 'gif' });
    // A GIF states no duration: no frame count either, rather than a guess.
    expect(info.frameCount).toBeUndefined();
  });

  it('swaps width and height of a clip that carries a quarter-turn rotation', async () => {
    const rotated = path.join(scratch, 'rotated.mp4');
    const source = path.join(videos, 'udacity_vehicle_detection_test_video.mp4');
    execFileSync(ffmpegPath().path, ['-v', 'error', '-y', '-i', source, '-map', '0:v', '-c', 'copy', '-metadata:s:v:0', 'rotate=90', rotated]);
    const info = await probeVideo(rotated);
    expect([info.width, info.height]).toEqual([720, 1280]);
  });

  it('names a missing file and says how to fix the path', async () => {
    const missing = path.join(videos, 'no-such-clip.mp4');
    await expect(probeVideo(missing)).rejects.toThrow(
      `video not found: ${missing} — check the path, or set PANOPTES_DATA / the source's uri`,
    );
  });

  it('describes an MPEG-TS clip (the packaged ffprobe crashes on it; ffmpeg reads it)', async () => {
    const ts = path.join(scratch, 'dashcam.ts');
    execFileSync(ffmpegPath().path, ['-v', 'error', '-y', '-i', path.join(videos, 'solidWhiteRight.mp4'), '-t', '2', '-c', 'copy', ts]);
    const info = await probeVideo(ts);
    expect(info).toMatchObject({ width: 960, height: 540, fps: 25, fpsNum: 25, fpsDen: 1, codec: 'h264', frameCount: 50 });
  });

  it('reads a rate of 12.50 as 25/2, and NTSC rates as n·1000/1001', async () => {
    const info = await probeVideo(path.join(videos, 'intel_car-detection.mp4'));
    expect(info).toMatchObject({ fpsNum: 25, fpsDen: 2, frameCount: 378 });
    expect(fractionOf(29.97)).toEqual({ num: 30000, den: 1001 });
    expect(fractionOf(23.98)).toEqual({ num: 24000, den: 1001 });
    expect(fractionOf(59.94)).toEqual({ num: 60000, den: 1001 });
    expect(fractionOf(7.5)).toEqual({ num: 15, den: 2 });
    expect(fractionOf(30)).toEqual({ num: 30, den: 1 });
  });

  it("names a corrupt file and passes on ffmpeg's reason", async () => {
    const corrupt = path.join(scratch, 'corrupt.mp4');
    writeFileSync(corrupt, noise(64 * 1024));
    await expect(probeVideo(corrupt)).rejects.toThrow(`cannot read video ${corrupt}: Invalid data found when processing input`);
  });

  it('says when a file has no video stream', async () => {
    const audio = path.join(scratch, 'tone.wav');
    execFileSync(ffmpegPath().path, ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=duration=0.2', audio]);
    await expect(probeVideo(audio)).rejects.toThrow(`cannot read video ${audio}: it has no video stream`);
  });
});

describe('isUrl', () => {
  it('tells stream URLs from paths', () => {
    for (const url of ['rtsp://cam/1', 'rtmp://host/live', 'http://host/a.mp4', 'https://host/a.m3u8', 'udp://0.0.0.0:1234']) {
      expect(isUrl(url)).toBe(true);
    }
    for (const file of ['replay/videos/a.mp4', '/abs/a.mp4', 'C:\\videos\\a.mp4', 'file:///abs/a.mp4']) {
      expect(isUrl(file)).toBe(false);
    }
  });
});
