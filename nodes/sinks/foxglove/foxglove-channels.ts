/**
 * The channels the Foxglove endpoint advertises: three per stream.
 *
 * | topic | schema | what |
 * |---|---|---|
 * | `/<stream>/image` | `foxglove.CompressedImage` | the rendered overlay, JPEG |
 * | `/<stream>/annotations` | `foxglove.ImageAnnotations` | outlines, labels, trails, lines and zones |
 * | `/<stream>/counts` | `panoptes.Counts` | counts per class, line and zone totals |
 *
 * Every channel is `json` with a JSON Schema: `@foxglove/schemas` ships the Foxglove types as
 * JSON Schema but not as protobuf descriptors, and JSON needs no encoder. The cost is the
 * JPEG's base64 (a third larger), paid once per frame, not once per client.
 */
import { CompressedImage, ImageAnnotations } from '@foxglove/schemas/jsonschema.js';
import type { ChannelAdvert } from './foxglove-wire.ts';

export interface StreamChannels {
  readonly stream: string;
  readonly image: ChannelAdvert;
  readonly annotations: ChannelAdvert;
  readonly counts: ChannelAdvert;
}

export const CHANNELS_PER_STREAM = 3;

/** The schema of `/<stream>/counts`, see counts-message.ts. */
const countsSchema = {
  title: 'panoptes.Counts',
  description: 'Objects per class in one frame of a Panoptes stream, with counting-line and zone totals',
  type: 'object',
  properties: {
    timestamp: {
      type: 'object',
      title: 'time',
      properties: { sec: { type: 'integer', minimum: 0 }, nsec: { type: 'integer', minimum: 0, maximum: 999_999_999 } },
      description: 'Capture time of the frame (wall clock), the same as its image and annotations',
    },
    stream: { type: 'string' },
    seq: { type: 'integer', description: 'Frame index in the stream' },
    ptsMs: { type: 'number', description: 'Presentation time in the stream, milliseconds' },
    source: {
      type: 'string',
      enum: ['analytics', 'segments'],
      description: 'analytics: confirmed tracks; segments: every thing segment (no analytics node)',
    },
    counts: { $ref: '#/$defs/classCounts', description: 'Objects in this frame per class' },
    total: { type: 'integer', description: 'Objects in this frame' },
    unique: { $ref: '#/$defs/classCounts', description: 'Distinct objects since the start per class (analytics only)' },
    lines: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          in: { $ref: '#/$defs/classCounts' },
          out: { $ref: '#/$defs/classCounts' },
          inTotal: { type: 'integer' },
          outTotal: { type: 'integer' },
        },
        required: ['name', 'in', 'out', 'inTotal', 'outTotal'],
      },
    },
    zones: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          occupancy: { $ref: '#/$defs/classCounts' },
          entered: { $ref: '#/$defs/classCounts' },
          occupancyTotal: { type: 'integer' },
          enteredTotal: { type: 'integer' },
        },
        required: ['name', 'occupancy', 'entered', 'occupancyTotal', 'enteredTotal'],
      },
    },
  },
  required: ['timestamp', 'stream', 'seq', 'ptsMs', 'source', 'counts', 'total', 'lines', 'zones'],
  $defs: { classCounts: { type: 'object', additionalProperties: { type: 'integer', minimum: 0 } } },
} as const;

const IMAGE_SCHEMA = JSON.stringify(CompressedImage);
const ANNOTATIONS_SCHEMA = JSON.stringify(ImageAnnotations);
const COUNTS_SCHEMA = JSON.stringify(countsSchema);

/**
 * The channels of one stream, with ids `firstId`, `firstId + 1`, `firstId + 2`: ids follow the
 * order streams were added, so they are the same on every connection of one run.
 */
export function streamChannels(stream: string, firstId: number): StreamChannels {
  const json = (id: number, topic: string, schemaName: string, schema: string): ChannelAdvert => ({
    id,
    topic,
    encoding: 'json',
    schemaName,
    schema,
    schemaEncoding: 'jsonschema',
  });
  return {
    stream,
    image: json(firstId, `/${stream}/image`, CompressedImage.title, IMAGE_SCHEMA),
    annotations: json(firstId + 1, `/${stream}/annotations`, ImageAnnotations.title, ANNOTATIONS_SCHEMA),
    counts: json(firstId + 2, `/${stream}/counts`, countsSchema.title, COUNTS_SCHEMA),
  };
}

export function advertsOf(channels: StreamChannels): ChannelAdvert[] {
  return [channels.image, channels.annotations, channels.counts];
}
