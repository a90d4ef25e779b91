/**
 * The bytes of frame and counts messages (docs/protocol.md), built once per frame and shared by
 * every client.
 */
import sharp from 'sharp';
import type { FramePacket } from '../../../pipeline/frame.ts';
import type { BinaryHeader, CountsMessage, DensityHeader, FramesHeader, VideoHeader } from '../../../servers/viewer-protocol/protocol.ts';
import { thingCounts } from '../../analytics/thing-counts.ts';
import { densityGrid } from '../density-grid.ts';
import { frameRecord, segmentRecord } from '../frame-record.ts';
import { encodeSegmentMap } from '../coco-segment-map.ts';

/** `u32 BE header length | JSON header | payloads`. */
export function binaryMessage(header: BinaryHeader, ...payloads: readonly Uint8Array[]): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const message = Buffer.allocUnsafe(4 + json.length + payloads.reduce((n, p) => n + p.length, 0));
  message.writeUInt32BE(json.length, 0);
  json.copy(message, 4);
  let at = 4 + json.length;
  for (const payload of payloads) {
    message.set(payload, at);
    at += payload.length;
  }
  return message;
}

/** Splits a binary message back into its header and payload (for clients and tests). */
export function readBinaryMessage<H>(message: Buffer): { header: H; payload: Buffer } {
  const length = message.readUInt32BE(0);
  return { header: JSON.parse(message.subarray(4, 4 + length).toString('utf8')) as H, payload: message.subarray(4 + length) };
}

export function videoMessage(packet: FramePacket, sentAtMs: number): Buffer | undefined {
  const { overlay, panoptic, analytics, frame } = packet;
  if (!overlay) return undefined;
  const things = (panoptic?.segments ?? []).filter((s) => s.isThing);
  // Boxes are in frame pixels; the JPEG may be scaled.
  const sx = panoptic ? overlay.width / panoptic.width : 1;
  const sy = panoptic ? overlay.height / panoptic.height : 1;
  const header: VideoHeader = {
    type: 'video',
    stream: frame.stream,
    seq: frame.seq,
    ptsMs: frame.ptsMs,
    capturedAtMs: frame.capturedAtMs,
    sentAtMs,
    width: overlay.width,
    height: overlay.height,
    counts: analytics?.counts ?? thingCounts(things),
    segments: things.map((s) => ({
      id: s.id,
      className: s.className,
      bbox: [s.bbox[0] * sx, s.bbox[1] * sy, (s.bbox[2] - s.bbox[0]) * sx, (s.bbox[3] - s.bbox[1]) * sy],
      score: s.score,
      ...(s.trackId === undefined ? {} : { trackId: s.trackId }),
    })),
    ...(analytics ? { lines: analytics.lines, zones: analytics.zones, unique: analytics.unique } : {}),
  };
  return binaryMessage(header, overlay.jpeg);
}

/**
 * The `counts` text message of one processed frame; with a crowd-density node, `density` (the
 * estimate with its band) and each zone's `density`, as the events record them.
 */
export function countsMessage(packet: FramePacket): string {
  const { stream, seq, ptsMs, counts, unique, lines, zones, coverage, density } = frameRecord(packet);
  const message: CountsMessage = { type: 'counts', stream, seq, ptsMs, counts, unique, lines, zones, coverage, density };
  return JSON.stringify(message);
}

/**
 * The `density` message of a new estimate: the header, then the map as a grid of bytes (at most
 * 160 a side, density-grid.ts). Built once per estimate, not per frame: the caller sends it when
 * the estimate changes.
 */
export function densityMessage(packet: FramePacket, sentAtMs: number): Buffer | undefined {
  const { density, frame } = packet;
  if (!density) return undefined;
  const grid = densityGrid(density);
  const round1 = (v: number) => Math.round(v * 10) / 10;
  const header: DensityHeader = {
    type: 'density',
    stream: frame.stream,
    seq: density.seq,
    ptsMs: frame.ptsMs - density.ageMs,
    sentAtMs,
    model: density.model,
    count: round1(density.count),
    low: round1(density.low),
    high: round1(density.high),
    expectedError: density.expectedError,
    region: density.region,
    width: grid.width,
    height: grid.height,
    maxPerCell: grid.maxPerCell,
  };
  return binaryMessage(header, grid.data);
}

/**
 * What a `frames` message needs, copied out of the packet before its pooled buffers go back:
 * the raw pixels and the segment map as COCO-panoptic RGB.
 */
export interface FramesSnapshot {
  readonly header: Omit<FramesHeader, 'jpegBytes' | 'maskBytes' | 'sentAtMs'>;
  readonly rgb: Uint8Array;
  readonly mask: Uint32Array;
}

export function framesSnapshot(packet: FramePacket): FramesSnapshot | undefined {
  const { frame, panoptic } = packet;
  if (!panoptic || frame.data.length === 0) return undefined;
  const mask = new Uint32Array(panoptic.width * panoptic.height);
  encodeSegmentMap(panoptic, panoptic.segments.map((s) => s.id), mask);
  return {
    header: {
      type: 'frames',
      stream: frame.stream,
      seq: frame.seq,
      ptsMs: frame.ptsMs,
      capturedAtMs: frame.capturedAtMs,
      width: frame.width,
      height: frame.height,
      segments: panoptic.segments.map((s) => ({ ...segmentRecord(s), classId: s.classId })),
      classNames: panoptic.classes.names,
    },
    rgb: frame.data.slice(),
    mask,
  };
}

/** Encodes a snapshot: the frame as JPEG, the segment map as RGB PNG (off the main thread, in sharp). */
export async function framesMessage(snapshot: FramesSnapshot, jpegQuality: number): Promise<Buffer> {
  const { width, height } = snapshot.header;
  const [jpeg, png] = await Promise.all([
    sharp(snapshot.rgb, { raw: { width, height, channels: 3 } }).jpeg({ quality: jpegQuality, optimiseCoding: false }).toBuffer(),
    sharp(Buffer.from(snapshot.mask.buffer), { raw: { width, height, channels: 4 } }).removeAlpha().png({ compressionLevel: 1 }).toBuffer(),
  ]);
  return binaryMessage({ ...snapshot.header, sentAtMs: Date.now(), jpegBytes: jpeg.length, maskBytes: png.length }, jpeg, png);
}
