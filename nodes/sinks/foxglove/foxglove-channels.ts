/**
 * The channels the Foxglove endpoint advertises: four per stream.
 *
 * | topic | schema | what |
 * |---|---|---|
 * | `/<stream>/image` | `foxglove.CompressedImage` | the rendered overlay, JPEG |
 * | `/<stream>/annotations` | `foxglove.ImageAnnotations` | outlines, labels, trails, lines and zones |
 * | `/<stream>/counts` | `panoptes.Counts` | counts per class, line and zone totals, the density count and band |
 * | `/<stream>/density` | `foxglove.RawImage` | the crowd-density map as a heatmap (`rgb8`), once per estimate |
 *
 * Every channel is `json` with a JSON Schema: `@foxglove/schemas` ships the Foxglove types as
 * JSON Schema but not as protobuf descriptors, and JSON needs no encoder. The cost is the
 * JPEG's base64 (a third larger), paid once per frame, not once per client.
 */
import { CompressedImage, ImageAnnotations, RawImage } from '@foxglove/schemas/jsonschema.js';
import type { ChannelAdvert } from './foxglove-wire.ts';

export interface StreamChannels {
  readonly stream: string;
  readonly image: ChannelAdvert;
  readonly annotations: ChannelAdvert;
  readonly counts: ChannelAdvert;
  readonly density: ChannelAdvert;
}

export const CHANNELS_PER_STREAM = 4;

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
          density: { $ref: '#/$defs/densityBand' },
        },
        required: ['name', 'occupancy', 'entered', 'occupancyTotal', 'enteredTotal'],
      },
    },
    density: {
      type: 'object',
      description: 'The crowd-density estimate (crowd-density node): people, with the band its expected error gives',
      properties: {
        model: { type: 'string' },
        count: { type: 'number', description: 'People the density model counts in its region' },
        low: { type: 'number', description: 'count * (1 - expectedError)' },
        high: { type: 'number', description: 'count * (1 + expectedError)' },
        expectedError: { type: 'number', description: "The model's expected error, a fraction of the count" },
        seq: { type: 'integer', description: 'The frame the estimate was computed on' },
        ageMs: { type: 'number', description: 'Stream milliseconds since that frame' },
      },
      required: ['model', 'count', 'low', 'high', 'expectedError', 'seq', 'ageMs'],
    },
  },
  required: ['timestamp', 'stream', 'seq', 'ptsMs', 'source', 'counts', 'total', 'lines', 'zones'],
  $defs: {
    classCounts: { type: 'object', additionalProperties: { type: 'integer', minimum: 0 } },
    densityBand: {
      type: 'object',
      description: 'People the density map puts inside the zone, with the band',
      properties: { count: { type: 'number' }, low: { type: 'number' }, high: { type: 'number' } },
      required: ['count', 'low', 'high'],
    },
  },
} as const;

const IMAGE_SCHEMA = JSON.stringify(CompressedImage);
const ANNOTATIONS_SCHEMA = JSON.stringify(ImageAnnotations);
/** The JSON Schema text of `/<stream>/counts` (also an MCAP recording's counts channel). */
export const COUNTS_SCHEMA = JSON.stringify(countsSchema);
const RAW_IMAGE_SCHEMA = JSON.stringify(RawImage);

/**
 * The channels of one stream, with ids `firstId` to `firstId + 3`: ids follow the
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
    density: json(firstId + 3, `/${stream}/density`, RawImage.title, RAW_IMAGE_SCHEMA),
  };
}

export function advertsOf(channels: StreamChannels): ChannelAdvert[] {
  return [channels.image, channels.annotations, channels.counts, channels.density];
}
