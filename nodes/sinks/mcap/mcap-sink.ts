import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { McapWriter, type IWritable } from '@mcap/core';
import sharp from 'sharp';
import { z } from 'zod';
import type { FramePacket } from '../../../pipeline/frame.ts';
import { defineSink, optionalSinkOption } from '../../../pipeline/node.ts';
import { encodeAnnotationsMessage } from '../foxglove/annotations-message.ts';
import { encodeCountsMessage } from '../foxglove/counts-message.ts';
import { encodeCompressedImage } from '../foxglove/image-message.ts';
import { outputFileProblem } from '../../../servers/output-path.ts';
import { cocoSegmentMap, type CocoSegmentMap } from '../coco-segment-map.ts';
import { cameraMotionJson, eventMessages, MCAP_SCHEMAS, segmentsJson, STREAM_TOPICS, topicOf, type McapSchemaKey, type StreamTopic } from './mcap-topics.ts';

/**
 * Records a run as MCAP (Foxglove's log format, ROS 2's default bag): per stream the camera
 * image, the annotations, the panoptic segmentation, the segments, counts, events and camera
 * motion, on timed, typed channels (mcap-topics.ts), written with the maintained MCAP library
 * (`@mcap/core`), chunked and indexed. Foxglove opens the file and shows what the live
 * `--foxglove` view shows (the layout in docs/foxglove-layout.json); `--source r.mcap` plays it
 * back through a new config or model (nodes/sources/mcap-source.ts).
 *
 * Memory stays bounded: a frame's pixels are copied once and encoded (JPEG, PNG) off the
 * pipeline's thread, at most {@link MAX_FRAMES_IN_FLIGHT} frames at a time; past that the sink's
 * `backpressure` makes the pipeline wait (a lossless run) or drop at its flow limiter (a live
 * one). The writer holds one chunk (`chunkBytes`, 1 MiB) before it goes to the disk. On Ctrl-C the
 * file is finished (summary and indexes written). If the disk fails, nothing more is written, the
 * failure is reported once (the run stops, exit 1, unless `optional: true`), and what the file
 * holds up to its last whole chunk stays readable by any MCAP reader that reads a file in order.
 *
 * ```yaml
 * sinks:
 *   - { type: mcap, path: out/drive.mcap }
 * ```
 */
export const mcapSink = defineSink({
  type: 'mcap',
  description: 'Records the run as an MCAP file: camera images, annotations, panoptic segmentation, counts and events on typed channels.',
  options: z.object({
    path: z.string().describe('File to write (created with its folder; replaced if it exists)'),
    jpegQuality: z.number().int().min(1).max(100).default(90).describe('Quality of the camera images (JPEG at the source size)'),
    chunkBytes: z
      .number()
      .int()
      .min(1024)
      .default(1024 * 1024)
      .describe('Bytes of messages gathered before a chunk goes to the disk: what a crash can lose at most'),
    optional: optionalSinkOption,
  }),
  async create(options, ctx) {
    const file = path.resolve(options.path);
    const problem = outputFileProblem(file);
    if (problem) throw new Error(`mcap: ${problem}`);
    const recording = await McapRecording.open(file, options.jpegQuality, options.chunkBytes);
    ctx.log.info(`recording MCAP to ${file}`);
    return {
      write: (packet) => recording.write(packet),
      backpressure: () => recording.backpressure(),
      failure: () => recording.failure,
      close: () => recording.close(),
    };
  },
});

/** Frames being encoded or written at once, past which the sink asks the pipeline to wait. */
export const MAX_FRAMES_IN_FLIGHT = 4;

/** The file, written in order, its position kept for the writer's indexes. */
class FileWritable implements IWritable {
  private at = 0n;
  constructor(private readonly handle: FileHandle) {}

  position(): bigint {
    return this.at;
  }

  async write(buffer: Uint8Array): Promise<void> {
    let written = 0;
    while (written < buffer.byteLength) {
      const { bytesWritten } = await this.handle.write(buffer, written, buffer.byteLength - written);
      written += bytesWritten;
    }
    this.at += BigInt(buffer.byteLength);
  }
}

/** A frame's pixels and segment map, copied out of the pipeline's buffers for the encoders. */
interface FrameCopy {
  readonly packet: FramePacket;
  readonly rgb: Uint8Array;
  /** The frame's COCO panoptic encoding, shared with the other sinks of the frame: read, never written. */
  readonly panoptic?: CocoSegmentMap;
}

class McapRecording {
  private readonly channels = new Map<string, Record<StreamTopic, number>>();
  /** Per stream, its first frame's capture and presentation times (see logTimeNs). */
  private readonly origins = new Map<string, { readonly capturedAtMs: number; readonly ptsMs: number }>();
  private schemaIds: Record<McapSchemaKey, number> | undefined;
  private sequence = 0;
  /** Frames are encoded side by side but added to the file one after the other, in order. */
  private tail: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private waiting: { promise: Promise<void>; resolve: () => void } | undefined;
  private failed: string | undefined;
  private lost = 0;

  private constructor(
    private readonly file: string,
    private readonly handle: FileHandle,
    private readonly writer: McapWriter,
    private readonly jpegQuality: number,
  ) {}

  static async open(file: string, jpegQuality: number, chunkBytes: number): Promise<McapRecording> {
    const handle = await open(file, 'w').catch((error: Error) => {
      throw new Error(`mcap: cannot open ${file} for writing: ${error.message}`);
    });
    const writer = new McapWriter({ writable: new FileWritable(handle), chunkSize: chunkBytes });
    await writer.start({ profile: '', library: 'panoptes' });
    return new McapRecording(file, handle, writer, jpegQuality);
  }

  get failure(): string | undefined {
    return this.failed;
  }

  write(packet: FramePacket): void {
    if (this.failed) {
      this.lost++;
      return;
    }
    const encoded = this.encode(this.copy(packet));
    this.inFlight++;
    this.tail = this.tail
      .then(async () => {
        const messages = await encoded;
        if (!this.failed) await this.add(packet, messages);
      })
      .catch((error: unknown) => {
        this.failed ??= `cannot write ${this.file}: ${error instanceof Error ? error.message : String(error)}`;
      })
      .finally(() => {
        this.inFlight--;
        if (this.inFlight < MAX_FRAMES_IN_FLIGHT && this.waiting) {
          this.waiting.resolve();
          this.waiting = undefined;
        }
      });
  }

  backpressure(): Promise<void> | undefined {
    if (this.inFlight < MAX_FRAMES_IN_FLIGHT) return undefined;
    if (!this.waiting) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.waiting = { promise, resolve };
    }
    return this.waiting.promise;
  }

  async close(): Promise<void> {
    await this.tail;
    try {
      // A failed disk takes no summary: the file ends on its last whole chunk.
      if (!this.failed) await this.writer.end();
    } catch (error) {
      this.failed ??= `cannot finish ${this.file}: ${error instanceof Error ? error.message : String(error)}`;
    } finally {
      await this.handle.close().catch(() => undefined);
    }
    if (this.failed) throw new Error(`mcap: ${this.failed}${this.lost > 0 ? `; ${this.lost} later frames not recorded` : ''}`);
  }

  /**
   * What the encoders need of the packet, copied now: its buffers go back to their pools after
   * `write`. The segment map's copy is the frame's COCO encoding, made once for every sink.
   */
  private copy(packet: FramePacket): FrameCopy {
    const { frame, panoptic } = packet;
    const rgb = frame.data.slice(0, frame.width * frame.height * 3);
    return panoptic ? { packet, rgb, panoptic: cocoSegmentMap(panoptic) } : { packet, rgb };
  }

  /** The frame's messages by topic, the images encoded on libuv's threads. */
  private async encode({ packet, rgb, panoptic }: FrameCopy): Promise<Partial<Record<StreamTopic, Uint8Array[]>>> {
    const { frame } = packet;
    const pngPixels = panoptic && new Uint8Array(panoptic.rgba.buffer, panoptic.rgba.byteOffset, panoptic.rgba.byteLength);
    const [jpeg, png] = await Promise.all([
      sharp(rgb, { raw: { width: frame.width, height: frame.height, channels: 3 } }).jpeg({ quality: this.jpegQuality }).toBuffer(),
      pngPixels
        ? sharp(pngPixels, { raw: { width: packet.panoptic!.width, height: packet.panoptic!.height, channels: 4 } })
            .removeAlpha()
            .png({ compressionLevel: 3 })
            .toBuffer()
        : undefined,
    ]);
    const motion = cameraMotionJson(packet);
    return {
      camera: [encodeCompressedImage(frame, 'jpeg', jpeg)],
      annotations: [encodeAnnotationsMessage({ packet, trailPoints: 0 })],
      ...(png && panoptic ? { panoptic: [encodeCompressedImage(frame, 'png', png)], segments: [segmentsJson(packet, panoptic.ids)] } : {}),
      counts: [encodeCountsMessage(packet)],
      events: eventMessages(packet),
      ...(motion ? { cameraMotion: [motion] } : {}),
    };
  }

  private async add(packet: FramePacket, messages: Partial<Record<StreamTopic, Uint8Array[]>>): Promise<void> {
    const channels = await this.channelsOf(packet.frame.stream);
    const time = this.logTimeNs(packet);
    for (const { key } of STREAM_TOPICS) {
      for (const data of messages[key] ?? []) {
        await this.writer.addMessage({ channelId: channels[key], sequence: this.sequence++, logTime: time, publishTime: time, data });
      }
    }
  }

  /**
   * A frame's log time: the stream's first capture time (wall clock) plus the frame's
   * presentation time since then, so a file played as fast as possible records its own pace
   * (25 frames a second), not the pipeline's, and a player paces it as it was filmed.
   */
  private logTimeNs(packet: FramePacket): bigint {
    const { stream, capturedAtMs, ptsMs } = packet.frame;
    let origin = this.origins.get(stream);
    if (!origin) this.origins.set(stream, (origin = { capturedAtMs, ptsMs }));
    return BigInt(Math.round((origin.capturedAtMs + ptsMs - origin.ptsMs) * 1e6));
  }

  /** A stream's channels, registered when its first frame comes. */
  private async channelsOf(stream: string): Promise<Record<StreamTopic, number>> {
    const known = this.channels.get(stream);
    if (known) return known;
    if (!this.schemaIds) {
      const ids: Partial<Record<McapSchemaKey, number>> = {};
      for (const [key, schema] of Object.entries(MCAP_SCHEMAS) as [McapSchemaKey, (typeof MCAP_SCHEMAS)[McapSchemaKey]][]) {
        ids[key] = await this.writer.registerSchema({ name: schema.name, encoding: schema.encoding, data: Buffer.from(schema.data) });
      }
      this.schemaIds = ids as Record<McapSchemaKey, number>;
    }
    const channels: Partial<Record<StreamTopic, number>> = {};
    for (const { key, suffix, schema } of STREAM_TOPICS) {
      channels[key] = await this.writer.registerChannel({
        schemaId: this.schemaIds[schema],
        topic: topicOf(stream, suffix),
        messageEncoding: 'json',
        metadata: new Map(),
      });
    }
    this.channels.set(stream, channels as Record<StreamTopic, number>);
    return channels as Record<StreamTopic, number>;
  }
}
