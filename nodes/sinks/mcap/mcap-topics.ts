/**
 * What an MCAP recording holds per stream: the channels (topic, schema) and the messages of one
 * processed frame. Every channel is `json` with a JSON Schema, as the live Foxglove endpoint's
 * (foxglove-channels.ts), so a recording and the live view show the same picture in Foxglove.
 *
 * | topic | schema | what |
 * |---|---|---|
 * | `/<stream>/camera` | `foxglove.CompressedImage` | the source frame, JPEG at the source size |
 * | `/<stream>/annotations` | `foxglove.ImageAnnotations` | outlines, labels with track ids, trails, lines, zones |
 * | `/<stream>/panoptic` | `foxglove.CompressedImage` | the segment map as a PNG in COCO's panoptic encoding (id = R + 256 G + 65536 B) |
 * | `/<stream>/segments` | `panoptes.Segments` | what each id of that PNG is: class, thing or stuff, track id, box, area |
 * | `/<stream>/counts` | `panoptes.Counts` | counts per class, line and zone totals, the density count and band |
 * | `/<stream>/events` | `panoptes.Event` | line crossings and zone entries and exits, one message each |
 * | `/<stream>/camera_motion` | `panoptes.CameraMotion` | the camera's own motion, where a motion node estimates it |
 *
 * Log and publish times follow the frames' presentation times from the stream's first capture
 * (mcap-sink.ts), so a player paces the recording as it was filmed; each message's `timestamp`
 * is the frame's capture time, as the live Foxglove view's.
 */
import { CompressedImage, ImageAnnotations } from '@foxglove/schemas/jsonschema.js';
import type { FramePacket } from '../../../pipeline/frame.ts';
import { COUNTS_SCHEMA } from '../foxglove/foxglove-channels.ts';
import { foxgloveTime } from '../foxglove/foxglove-time.ts';
import { segmentRecord } from '../frame-record.ts';

/** The schema of a message that is one object of a frame (`timestamp`, `seq`, and the object under `key`). */
function frameStampedSchema(title: string, description: string, key: string) {
  const data = JSON.stringify({
    title,
    description,
    type: 'object',
    properties: { timestamp: { type: 'object' }, seq: { type: 'integer' }, [key]: { type: 'object' } },
    required: ['timestamp', 'seq', key],
  });
  return { name: title, encoding: 'jsonschema', data } as const;
}

/** The schemas of a recording, registered once per file. */
export const MCAP_SCHEMAS = {
  image: { name: 'foxglove.CompressedImage', encoding: 'jsonschema', data: JSON.stringify(CompressedImage) },
  annotations: { name: 'foxglove.ImageAnnotations', encoding: 'jsonschema', data: JSON.stringify(ImageAnnotations) },
  counts: { name: 'panoptes.Counts', encoding: 'jsonschema', data: COUNTS_SCHEMA },
  segments: {
    name: 'panoptes.Segments',
    encoding: 'jsonschema',
    data: JSON.stringify({
      title: 'panoptes.Segments',
      description: 'The segments of one frame: the ids of the /panoptic PNG (COCO panoptic encoding) and what they are',
      type: 'object',
      properties: {
        timestamp: { type: 'object', properties: { sec: { type: 'integer' }, nsec: { type: 'integer' } } },
        seq: { type: 'integer' },
        ptsMs: { type: 'number' },
        segments: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              pngId: { type: 'integer', description: 'Its pixels in /panoptic: R + 256 G + 65536 B' },
              id: { type: 'integer' },
              className: { type: 'string' },
              isThing: { type: 'boolean' },
              trackId: { type: 'integer' },
              bbox: { type: 'array', items: { type: 'number' }, description: '[x, y, width, height], pixels' },
              area: { type: 'integer' },
              score: { type: 'number' },
            },
            required: ['pngId', 'id', 'className', 'isThing', 'bbox', 'area'],
          },
        },
      },
      required: ['timestamp', 'seq', 'ptsMs', 'segments'],
    }),
  },
  events: frameStampedSchema('panoptes.Event', 'A line crossing or a zone entry or exit, as --events records it', 'event'),
  cameraMotion: frameStampedSchema(
    'panoptes.CameraMotion',
    "The camera's own motion since the previous frame (a 2x3 affine in pixels) and how sure the estimate is",
    'motion',
  ),
} as const;

export type McapSchemaKey = keyof typeof MCAP_SCHEMAS;

/** A stream's channels: the topic suffix and the schema of each. */
export const STREAM_TOPICS = [
  { key: 'camera', suffix: 'camera', schema: 'image' },
  { key: 'annotations', suffix: 'annotations', schema: 'annotations' },
  { key: 'panoptic', suffix: 'panoptic', schema: 'image' },
  { key: 'segments', suffix: 'segments', schema: 'segments' },
  { key: 'counts', suffix: 'counts', schema: 'counts' },
  { key: 'events', suffix: 'events', schema: 'events' },
  { key: 'cameraMotion', suffix: 'camera_motion', schema: 'cameraMotion' },
] as const satisfies readonly { key: string; suffix: string; schema: McapSchemaKey }[];

export type StreamTopic = (typeof STREAM_TOPICS)[number]['key'];

export const topicOf = (stream: string, suffix: string): string => `/${stream}/${suffix}`;

/** The `/segments` message: each segment with the id its pixels have in the PNG. */
export function segmentsJson(packet: FramePacket, pngIds: readonly number[]): Uint8Array {
  const segments = (packet.panoptic?.segments ?? []).map((s, k) => ({ pngId: pngIds[k]!, ...segmentRecord(s) }));
  const { frame } = packet;
  return Buffer.from(JSON.stringify({ timestamp: foxgloveTime(frame.capturedAtMs), seq: frame.seq, ptsMs: frame.ptsMs, segments }));
}

/** The frame's line and zone events, one message each. */
export function eventMessages(packet: FramePacket): Uint8Array[] {
  const events = packet.analytics?.events ?? [];
  const timestamp = foxgloveTime(packet.frame.capturedAtMs);
  return events.map((event) => Buffer.from(JSON.stringify({ timestamp, seq: packet.frame.seq, event })));
}

/** The frame's camera motion, where a motion node estimated one. */
export function cameraMotionJson(packet: FramePacket): Uint8Array | undefined {
  const motion = packet.cameraMotion;
  if (!motion) return undefined;
  return Buffer.from(JSON.stringify({ timestamp: foxgloveTime(packet.frame.capturedAtMs), seq: packet.frame.seq, motion }));
}
