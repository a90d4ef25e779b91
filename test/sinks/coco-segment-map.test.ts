/**
 * A frame's COCO panoptic encoding is made once and shared by every sink that writes it
 * (panoptic-png, mcap), and never handed to another frame, not even one whose segment map is
 * the same pooled buffer refilled.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { McapStreamReader } from '@mcap/core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { panopticIdOf } from '../../lib/formats/coco-panoptic-ids.ts';
import { mcapSink } from '../../nodes/sinks/mcap/mcap-sink.ts';
import { cocoSegmentMap, type CocoSegmentMap } from '../../nodes/sinks/coco-segment-map.ts';
import { panopticPngSink } from '../../nodes/sinks/panoptic-png-sink.ts';
import { readPanopticPng } from '../../evaluation/segmentation/panoptic-png.ts';
import { packetOf, type FramePacket, type PanopticFrame, type Segment } from '../../pipeline/frame.ts';
import { tempFolder } from '../evaluation/segmentation/fixtures.ts';
import { graphContext } from '../helpers/data-dir.ts';
import { testClassSet, withRuns } from '../helpers/panoptic.ts';

const CLASS_NAMES = ['road', 'car'];
const W = 4;
const H = 2;
const STUFF = 2 ** 24 - 256;
const UNTRACKED = 2 ** 23;

function seg(id: number, classId: number, extra: Partial<Segment> = {}): Omit<Segment, 'runs'> {
  return { id, classId, className: CLASS_NAMES[classId], isThing: classId === 1, area: 0, bbox: [0, 0, 1, 1], score: 1, ...extra };
}

/** A frame over `segmentMap` (filled from `rows`, one character per pixel), as fusion builds one per frame. */
function frameOn(segmentMap: Uint32Array, rows: string, segments: Omit<Segment, 'runs'>[]): PanopticFrame {
  segmentMap.set(Array.from(rows, Number));
  return {
    width: W,
    height: H,
    classMap: new Uint8Array(W * H),
    segmentMap,
    segments: withRuns(segmentMap, W, segments),
    classes: testClassSet(CLASS_NAMES, ['car']),
  };
}

function packet(seq: number, panoptic: PanopticFrame): FramePacket {
  const frame = { stream: 'cam', seq, ptsMs: seq * 40, width: W, height: H, data: new Uint8Array(W * H * 3), capturedAtMs: 1_700_000_000_000 };
  return { ...packetOf(frame), panoptic };
}

/** The id of each RGBA pixel (bytes R, G, B, 255). */
function pixelIds(rgba: CocoSegmentMap['rgba']): number[] {
  const bytes = new Uint8Array(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return Array.from({ length: rgba.length }, (_, p) => panopticIdOf(bytes[4 * p], bytes[4 * p + 1], bytes[4 * p + 2]));
}

/** The ids in the PNGs of `file`'s /cam/panoptic channel, one array per message. */
async function mcapPanopticIds(file: string): Promise<number[][]> {
  const reader = new McapStreamReader();
  reader.append(readFileSync(file));
  const topics = new Map<number, string>();
  const pngs: Buffer[] = [];
  for (let record = reader.nextRecord(); record; record = reader.nextRecord()) {
    if (record.type === 'Channel') topics.set(record.id, record.topic);
    if (record.type === 'Message' && topics.get(record.channelId) === '/cam/panoptic') {
      const { data } = JSON.parse(Buffer.from(record.data).toString('utf8')) as { data: string };
      pngs.push(Buffer.from(data, 'base64'));
    }
  }
  return Promise.all(
    pngs.map(async (png) => {
      const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
      return Array.from({ length: info.width * info.height }, (_, p) => panopticIdOf(data[p * info.channels], data[p * info.channels + 1], data[p * info.channels + 2]));
    }),
  );
}

describe('cocoSegmentMap', () => {
  let root: string;
  let remove: () => Promise<void>;
  beforeAll(async () => ({ dir: root, remove } = await tempFolder()));
  afterAll(() => remove());

  it('encodes a frame once: asked again, it gives the same encoding', () => {
    const frame = frameOn(new Uint32Array(W * H), '11220000', [seg(1, 1, { trackId: 7 }), seg(2, 0)]);
    const first = cocoSegmentMap(frame);
    expect(cocoSegmentMap(frame)).toBe(first);
    expect(first.ids).toEqual([7, STUFF]);
    expect([...first.areas]).toEqual([2, 2]);
    expect(pixelIds(first.rgba)).toEqual([7, 7, STUFF, STUFF, 0, 0, 0, 0]);
  });

  it('gives each frame its own encoding, also when the next frame refills the same pooled segment map', () => {
    const pooled = new Uint32Array(W * H);
    const frame0 = frameOn(pooled, '11220000', [seg(1, 1, { trackId: 7 }), seg(2, 0)]);
    const encoding0 = cocoSegmentMap(frame0);
    const pixels0 = encoding0.rgba.slice();

    // The packet went back to the pool; the next frame is fused into the same buffer.
    const frame1 = frameOn(pooled, '00001111', [seg(1, 1)]);
    const encoding1 = cocoSegmentMap(frame1);
    expect(encoding1).not.toBe(encoding0);
    expect(encoding1.ids).toEqual([UNTRACKED + 1]);
    expect([...encoding1.areas]).toEqual([4]);
    // The earlier frame's pixels, still queued for its PNG, are untouched.
    expect(encoding0.rgba).toEqual(pixels0);
    expect(cocoSegmentMap(frame0)).toBe(encoding0);

    // The tracker's copy of a frame (track ids added) is a frame of its own, with its own ids.
    const tracked: PanopticFrame = { ...frame1, segments: frame1.segments.map((s) => ({ ...s, trackId: 3 })) };
    expect(cocoSegmentMap(tracked).ids).toEqual([3]);
  });

  it('is shared by the mcap and panoptic-png sinks of a run: the second sink does not read the segment map again', async () => {
    const recording = path.join(root, 'run.mcap');
    const pngDir = path.join(root, 'png');
    const context = graphContext(['cam']);
    const mcap = await mcapSink.create({ path: recording, jpegQuality: 90, chunkBytes: 1024 * 1024 }, context);
    const png = await panopticPngSink.create({ dir: pngDir }, context);

    const pooled = new Uint32Array(W * H);
    const frame = frameOn(pooled, '11220000', [seg(1, 1, { trackId: 7 }), seg(2, 0)]);
    mcap.write(packet(0, frame));
    // Had panoptic-png encoded the frame itself, it would read this, not the frame mcap encoded.
    pooled.fill(0);
    png.write(packet(0, frame));
    await Promise.all([mcap.close(), png.close()]);

    const expected = [7, 7, STUFF, STUFF, 0, 0, 0, 0];
    expect([...(await readPanopticPng(path.join(pngDir, 'cam', '000000.png'))).ids]).toEqual(expected);
    expect(await mcapPanopticIds(recording)).toEqual([expected]);
  });
});
