/**
 * Numbered images as a source (ffmpeg's image2 demuxer): the real MOT17-02 frames (4 JPEGs,
 * 1920x1080, a seqinfo.ini at 30 fps beside img1/), and small sequences made here by ffmpeg for
 * what the real one does not show (no seqinfo.ini, numbering from 5, a gap).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lastValueFrom, toArray, type Observable } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { ffmpegPath } from '../../servers/ffmpeg-binary.ts';
import { ffmpegSource, ffmpegSourceOptions } from '../../nodes/sources/ffmpeg-source.ts';
import { isImageSequence, openImageSequence } from '../../nodes/sources/image-sequence.ts';
import { releasePacket, type FramePacket } from '../../pipeline/frame.ts';
import { chainContext, dataDir } from '../helpers/data-dir.ts';

const MOT17_IMAGES = 'replay/sequences/MOT17-02-FRCNN/img1';
const scratch = mkdtempSync(path.join(tmpdir(), 'panoptes-images-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function openSource(options: Record<string, unknown>) {
  const ctx = chainContext();
  const source = await ffmpegSource.create(ffmpegSourceOptions.parse(options), ctx);
  return { ctx, source };
}

/** Every frame of a source, its pixels copied (the buffers go back to the pool at once). */
async function decodeAll(source: Observable<FramePacket>) {
  const packets = await lastValueFrom(source.pipe(toArray()));
  return packets.map((packet) => {
    const frame = { ...packet.frame, data: Uint8Array.from(packet.frame.data) };
    releasePacket(packet);
    return frame;
  });
}

/** What ffmpeg itself decodes one JPEG to, as RGB24. */
function decodeJpeg(file: string): Uint8Array {
  return new Uint8Array(execFileSync(ffmpegPath().path, ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 24 }));
}

/** `count` 64x48 test-pattern JPEGs named by `pattern`, numbered from `start`, in a fresh folder. */
function makeImages(name: string, pattern: string, start: number, count: number): string {
  const folder = path.join(scratch, name, 'img1');
  mkdirSync(folder, { recursive: true });
  execFileSync(ffmpegPath().path, [
    '-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10', '-frames:v', String(count),
    '-start_number', String(start), path.join(folder, pattern),
  ]);
  return folder;
}

describe('image sequence source', () => {
  it('decodes the MOT17-02 JPEGs as a clip: 4 frames of 1920x1080 at the 30 fps of seqinfo.ini', async () => {
    const { ctx, source } = await openSource({ uri: `${MOT17_IMAGES}/%06d.jpg`, realtime: false });
    const frames = await decodeAll(source);
    expect(frames.map((f) => f.seq)).toEqual([0, 1, 2, 3]);
    for (const f of frames) expect([f.width, f.height, f.data.length]).toEqual([1920, 1080, 1920 * 1080 * 3]);
    expect(frames.map((f) => f.ptsMs)).toEqual([0, 1000 / 30, 2000 / 30, 100]);
    // seq 0 is 000001.jpg (frame 1 of gt/gt.txt), seq 3 is 000004.jpg: pixel for pixel.
    const images = path.join(dataDir(), MOT17_IMAGES);
    expect(Buffer.from(frames[0]!.data).equals(decodeJpeg(path.join(images, '000001.jpg')))).toBe(true);
    expect(Buffer.from(frames[3]!.data).equals(decodeJpeg(path.join(images, '000004.jpg')))).toBe(true);
    expect(ctx.log.lines.join('\n')).toContain('1920x1080 @ 30 fps (4 images from 000001.jpg, frame rate from seqinfo.ini)');
  });

  it('takes the rate from the fps option over seqinfo.ini', async () => {
    const { source } = await openSource({ uri: `${MOT17_IMAGES}/%06d.jpg`, realtime: false, fps: 10, maxFrames: 2 });
    const frames = await decodeAll(source);
    expect(frames.map((f) => f.ptsMs)).toEqual([0, 100]);
  });

  it('plays images without seqinfo.ini at 25 fps, from the first number present, up to the first gap', async () => {
    const folder = makeImages('from-five', 'frame_%d.jpg', 5, 3); // frame_5, frame_6, frame_7
    makeImages('from-five', 'frame_%d.jpg', 9, 1); // frame_9: after a gap, not played
    const { ctx, source } = await openSource({ uri: path.join(folder, 'frame_%d.jpg'), realtime: false });
    const frames = await decodeAll(source);
    expect(frames.map((f) => [f.seq, f.ptsMs, f.width, f.height])).toEqual([
      [0, 0, 64, 48],
      [1, 40, 64, 48],
      [2, 80, 64, 48],
    ]);
    expect(ctx.log.lines.join('\n')).toContain('@ 25 fps (3 images from frame_5.jpg, frame rate from the default)');
    expect(ctx.log.lines.join('\n')).not.toContain('ended early');
  });

  it('tells a pattern from a file and from a URL', () => {
    const images = path.join(dataDir(), MOT17_IMAGES);
    expect(isImageSequence(path.join(images, '%06d.jpg'))).toBe(true);
    expect(isImageSequence(path.join(images, '000001.jpg'))).toBe(false);
    expect(isImageSequence('http://camera.local/%06d.jpg')).toBe(false);
    expect(isImageSequence(path.join(images, 'clip.mp4'))).toBe(false);
    // %06d must give the name back exactly: 1.jpg is not a match for it.
    expect(openImageSequence(path.join(images, '%06d.jpg'))).toMatchObject({ firstNumber: 1, frames: 4, fpsNum: 30, fpsDen: 1 });
  });

  it('fails at build time, naming the path, when the folder does not exist or no file matches', async () => {
    const noFolder = path.join(scratch, 'nowhere', 'img1', '%06d.jpg');
    await expect(openSource({ uri: noFolder })).rejects.toThrow(
      `image sequence not found: the folder ${path.dirname(noFolder)} does not exist`,
    );
    const images = path.join(dataDir(), MOT17_IMAGES);
    await expect(openSource({ uri: path.join(images, '%04d.jpg') })).rejects.toThrow(
      `image sequence not found: no file in ${images} matches %04d.jpg (e.g. 0001.jpg)`,
    );
    await expect(openSource({ uri: path.join(images, '%06d.png') })).rejects.toThrow('matches %06d.png');
  });

  it('refuses fps on a video, which has a rate of its own', async () => {
    await expect(openSource({ uri: 'replay/videos/solidWhiteRight.mp4', fps: 10 })).rejects.toThrow(
      'fps applies to image sequences (a uri with %06d or %d) only',
    );
  });
});
