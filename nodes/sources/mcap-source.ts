import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { McapStreamReader, type McapTypes } from '@mcap/core';
import { Observable } from 'rxjs';
import sharp from 'sharp';
import { z } from 'zod';
import { BufferPool } from '../../pipeline/buffer-pool.ts';
import { packetOf, type FramePacket } from '../../pipeline/frame.ts';
import { defineSource } from '../../pipeline/node.ts';
import { mcapLocation } from './mcap-location.ts';

/** Schemas whose messages are images this source can play. */
const IMAGE_SCHEMAS = ['foxglove.CompressedImage', 'foxglove.RawImage'];
/** Bytes read from the file at a time. */
const READ_BYTES = 1024 * 1024;
/** Decoded frames out at once: the pool that paces a lossless replay (and drops a live one's surplus). */
const FRAMES_IN_FLIGHT = 4;

const options = z.strictObject({
  path: z
    .string()
    .describe('An MCAP file (relative paths are under the data directory); `file.mcap#/topic` picks the image channel, else the first one'),
  realtime: z.boolean().default(true).describe("Play at the recorded times, newest frame first; false: every frame, as fast as the pipeline takes them"),
  maxFrames: z.number().int().positive().optional().describe('Stop after this many frames'),
});

type Options = z.infer<typeof options>;

/** A decoded image message of the chosen channel: RGB bytes, size, and its log time. */
interface DecodedImage {
  readonly rgb: Buffer;
  readonly width: number;
  readonly height: number;
  readonly logTimeNs: bigint;
}

/**
 * The image messages of one channel of an MCAP file, in the order they were written (a
 * recording's log time order), read a megabyte at a time with the streaming reader: a file cut
 * by a crash plays up to its last whole chunk, and no index is needed.
 */
async function* imageMessages(file: string, topic: string | undefined, signal: AbortSignal): AsyncGenerator<McapTypes.TypedMcapRecords['Message'] & { readonly schema: string }> {
  const handle = await open(file, 'r');
  try {
    const reader = new McapStreamReader();
    const schemas = new Map<number, string>();
    const channels = new Map<number, { topic: string; schema: string }>();
    let chosen: number | undefined;
    for (;;) {
      if (signal.aborted) return;
      // A new buffer each time: the reader may keep what it was given until it parses it.
      const buffer = new Uint8Array(READ_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, READ_BYTES, null);
      if (bytesRead === 0) break;
      reader.append(buffer.subarray(0, bytesRead));
      for (let record = reader.nextRecord(); record; record = reader.nextRecord()) {
        if (record.type === 'Schema') schemas.set(record.id, record.name);
        else if (record.type === 'Channel') {
          const schema = schemas.get(record.schemaId) ?? '';
          channels.set(record.id, { topic: record.topic, schema });
          const wanted = topic === undefined ? IMAGE_SCHEMAS.includes(schema) : record.topic === topic;
          if (chosen === undefined && wanted) {
            if (!IMAGE_SCHEMAS.includes(schema)) throw new Error(`${file}: channel ${record.topic} holds ${schema || 'no schema'}, not images (${IMAGE_SCHEMAS.join(' or ')})`);
            chosen = record.id;
          }
        } else if (record.type === 'Message' && record.channelId === chosen) {
          yield { ...record, schema: channels.get(chosen)!.schema };
        }
      }
    }
    if (chosen === undefined) {
      const found = [...channels.values()].map((c) => `${c.topic} (${c.schema})`).join(', ') || 'none';
      throw new Error(
        topic === undefined
          ? `${file}: no image channel (${IMAGE_SCHEMAS.join(' or ')}); its channels: ${found}`
          : `${file}: no channel ${topic}; its channels: ${found}`,
      );
    }
  } finally {
    await handle.close();
  }
}

/** One image message as RGB: a JPEG or PNG `CompressedImage`, or an `rgb8`/`bgr8`/`mono8` `RawImage`, JSON-encoded. */
async function decodeImage(message: McapTypes.TypedMcapRecords['Message'] & { readonly schema: string }): Promise<DecodedImage> {
  const json = JSON.parse(Buffer.from(message.data).toString('utf8')) as { data: string; width?: number; height?: number; encoding?: string };
  const bytes = Buffer.from(json.data, 'base64');
  if (message.schema === 'foxglove.CompressedImage') {
    const { data, info } = await sharp(bytes).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    return { rgb: data, width: info.width, height: info.height, logTimeNs: message.logTime };
  }
  const { width = 0, height = 0, encoding } = json;
  const channels = encoding === 'mono8' ? 1 : encoding === 'rgb8' || encoding === 'bgr8' ? 3 : 0;
  if (channels === 0) throw new Error(`RawImage encoding ${String(encoding)} is not one this source plays (rgb8, bgr8, mono8)`);
  let image = sharp(bytes, { raw: { width, height, channels } });
  if (encoding === 'bgr8') image = image.recomb([[0, 0, 1], [0, 1, 0], [1, 0, 0]]);
  const { data } = await image.toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { rgb: data, width, height, logTimeNs: message.logTime };
}

/**
 * Plays the image channel of an MCAP recording (`--mcap`, or any tool's) back as a source: a
 * recorded drive runs through a new config or model, and `panoptes eval` compares the two runs.
 * At the recorded times (the log times' spacing; a frame that comes while the pipeline is busy
 * is dropped, as a live camera's) or, with `realtime: false`, every frame as fast as the pipeline
 * takes them.
 *
 * ```yaml
 * sources:
 *   - { id: drive, type: mcap-playback, path: out/drive.mcap, realtime: false }
 * ```
 */
export const mcapSource = defineSource<Options>({
  type: 'mcap-playback',
  description: 'Plays the image channel of an MCAP file (JPEG or PNG CompressedImage, or RawImage) as a stream of frames.',
  options,
  lossless: (o) => !o.realtime,
  async create(options, ctx) {
    const { file: relative, topic } = mcapLocation(options.path);
    const file = path.resolve(ctx.dataDir, relative);
    if (!existsSync(file)) throw new Error(`MCAP file not found: ${file} (give a recording written by --mcap, or any MCAP file with an image channel)`);
    return new Observable<FramePacket>((subscriber) => {
      const stop = new AbortController();
      let pool: BufferPool<Uint8Array> | undefined;
      let poolBytes = 0;
      let wake: (() => void) | undefined;
      const play = async () => {
        let seq = 0;
        let firstNs: bigint | undefined;
        const startedAt = performance.now();
        for await (const message of imageMessages(file, topic, stop.signal)) {
          if (stop.signal.aborted || (options.maxFrames !== undefined && seq >= options.maxFrames)) break;
          const image = await decodeImage(message);
          firstNs ??= image.logTimeNs;
          const ptsMs = Number(image.logTimeNs - firstNs) / 1e6;
          if (options.realtime) {
            const wait = startedAt + ptsMs - performance.now();
            if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          }
          const bytes = image.width * image.height * 3;
          // A new pool when the picture's size changes; frames out keep their own buffers.
          if (bytes !== poolBytes) [pool, poolBytes] = [new BufferPool(() => new Uint8Array(bytes), FRAMES_IN_FLIGHT), bytes];
          let lease = pool!.acquire();
          if (!lease && !options.realtime) {
            // Lossless: wait for the pipeline to give a buffer back.
            while (!lease && !stop.signal.aborted) {
              await new Promise<void>((resolve) => {
                wake = resolve;
                pool!.onRelease = () => wake?.();
              });
              lease = pool!.acquire();
            }
          }
          if (!lease || lease.buffer.length < bytes) {
            lease?.release();
            ctx.metrics.decoded(ctx.stream);
            ctx.metrics.drop(ctx.stream, 'source');
            seq++;
            continue;
          }
          lease.buffer.set(image.rgb.subarray(0, bytes));
          ctx.metrics.decoded(ctx.stream);
          const frame = { stream: ctx.stream, seq, ptsMs, width: image.width, height: image.height, data: lease.buffer, capturedAtMs: Date.now() };
          seq++;
          subscriber.next(packetOf(frame, [lease.release]));
        }
        if (seq === 0 && !stop.signal.aborted) throw new Error(`${file}: its image channel holds no message`);
        ctx.log.info(`${relative}: ${seq} frames played`);
      };
      play().then(
        () => subscriber.complete(),
        (error: unknown) => subscriber.error(error instanceof Error ? error : new Error(String(error))),
      );
      return () => {
        stop.abort();
        wake?.();
      };
    });
  },
});
