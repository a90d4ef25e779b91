/**
 * Recording through the real ffmpeg: the file has the overlay's size and plays in real time,
 * also when frames were dropped on the way.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { probeVideo } from '../../nodes/sources/probe.ts';
import { recordSink } from '../../nodes/sinks/record-sink.ts';
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
});
