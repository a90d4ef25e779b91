import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { z } from 'zod';
import { toXywh } from '../../lib/geometry/box.ts';
import type { PanopticFrame } from '../../pipeline/frame.ts';
import type { Logger } from '../../pipeline/log.ts';
import { defineSink, optionalSinkOption } from '../../pipeline/node.ts';
import {
  openCocoPanopticJson,
  type CocoAnnotation,
  type CocoCategory,
  type CocoImage,
  type CocoPanopticJsonWriter,
  type CocoSegmentInfo,
} from './coco-panoptic-json-writer.ts';
import { cocoSegmentMap, type ReadonlyTypedArray } from './coco-segment-map.ts';
import { outputFolderProblem } from '../../servers/output-path.ts';
import { SinkQueue, type QueueBacklog } from '../../servers/queue/sink-queue.ts';

export type { CocoPanopticFile, CocoSegmentInfo } from './coco-panoptic-json-writer.ts';

/**
 * The pipeline's panoptic output in the COCO panoptic format, so that a run can be scored with
 * `panoptes eval panoptic` or `eval video-panoptic` (or panopticapi) against ground truth:
 *
 *     <dir>/<stream>/<seq, 6 digits>.png   RGB, segment id = R + 256·G + 256²·B, 0 = void
 *     <dir>/<stream>/panoptic.json         images, annotations (segments_info), categories
 *
 * Segment ids follow the rules in coco-segment-map.ts: one object keeps one id from frame to
 * frame (a tracked thing's is its `trackId`), and ids never collide within a frame.
 * `category_id` is the class index in the model's class list; `categories` lists every class,
 * with `isthing` 1 for the classes seen as things during the run.
 *
 * `write` never blocks the pipeline: it takes the frame's COCO RGBA pixels from
 * coco-segment-map.ts (a new buffer, since the packet's buffers go back to their pool as soon as
 * it returns; ~3 ms for 960x540 here, once per frame however many sinks ask) and queues them on
 * the sinks' shared queue (servers/queue/sink-queue.ts) for sharp, which drops the alpha and
 * encodes the RGB PNG on the libuv thread pool, `PNG_IN_FLIGHT_BYTES` of frames at a time.
 * Every frame is written, none dropped: when encoding or the disk falls behind, a warning says
 * so, and past `PNG_MAX_QUEUED_BYTES` waiting the sink's `backpressure` makes the pipeline wait,
 * so memory stays bounded on runs of any length. Each frame's JSON entries are written as soon
 * as its PNG and every earlier one have landed (coco-panoptic-json-writer.ts), and the JSON is
 * completed on close(): it lists only the PNGs written, in frame order.
 *
 * ```yaml
 * sinks:
 *   - { type: panoptic-png, dir: out/panoptic }
 * ```
 */

/** Pending PNG writes above which a warning is logged (never a reason to drop a frame). */
export const PENDING_WRITES_WARNING = 8;

/** A stream id as a folder name: anything but letters, digits, `.`, `_` and `-` becomes `_`. */
export const streamFolderName = (stream: string): string => stream.replace(/[^A-Za-z0-9._-]/g, '_') || '_';

/** Bytes of frames being encoded at once (sharp's work on the libuv pool); at least one frame. */
export const PNG_IN_FLIGHT_BYTES = 64 * 1024 * 1024;
/** Bytes of frames waiting to be encoded past which the pipeline is asked to wait (backpressure). */
export const PNG_MAX_QUEUED_BYTES = 256 * 1024 * 1024;

export interface PanopticPngLimits {
  readonly inFlightBytes: number;
  readonly maxQueuedBytes: number;
}

/** One frame's PNG to write, and its JSON entries, kept until every earlier frame has landed. */
interface PngJob {
  readonly output: StreamOutput;
  readonly file: string;
  /** Shared with the other sinks of the frame: read, never written. */
  readonly rgba: ReadonlyTypedArray<Uint32Array>;
  readonly width: number;
  readonly height: number;
  readonly image: CocoImage;
  readonly annotation: CocoAnnotation;
  written: boolean | undefined;
}

interface StreamOutput {
  readonly folder: string;
  /** The folder made and the JSON opened; rejects when either fails (each PNG then fails too). */
  readonly ready: Promise<CocoPanopticJsonWriter>;
  /** Jobs in write order; the head leaves (and its entries are written) once it has landed. */
  readonly inOrder: PngJob[];
  classNames: readonly string[];
  readonly thingClasses: Set<number>;
}

/** The writer behind the sink; exported for tests and for embedding. */
export function createPanopticPngWriter(
  dir: string,
  log: Logger,
  limits: PanopticPngLimits = { inFlightBytes: PNG_IN_FLIGHT_BYTES, maxQueuedBytes: PNG_MAX_QUEUED_BYTES },
) {
  const root = path.resolve(dir);
  const streams = new Map<string, StreamOutput>();
  let warnedAt = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  const fail = (file: string, err: Error) => {
    failures++;
    firstFailure ??= `${file}: ${err.message}`;
    log.error(`panoptic-png: cannot write ${file}: ${err.message}`);
  };

  const outputFor = (stream: string): StreamOutput => {
    let output = streams.get(stream);
    if (!output) {
      const folder = path.join(root, streamFolderName(stream));
      // A failed mkdir fails each PNG write of the stream, which is logged and counted.
      const ready = mkdir(folder, { recursive: true }).then(() => openCocoPanopticJson(path.join(folder, 'panoptic.json'), log));
      ready.catch(() => undefined);
      output = { folder, ready, inOrder: [], classNames: [], thingClasses: new Set() };
      streams.set(stream, output);
    }
    return output;
  };

  /** Writes the entries of the frames that have landed, in the order they were written. */
  const flushInOrder = (output: StreamOutput, json: CocoPanopticJsonWriter | undefined) => {
    while (output.inOrder.length > 0 && output.inOrder[0]!.written !== undefined) {
      const job = output.inOrder.shift()!;
      if (job.written) json?.add(job.image, job.annotation);
    }
  };

  const encode = (job: PngJob, taken: () => void) => {
    const pixels = new Uint8Array(job.rgba.buffer, job.rgba.byteOffset, job.rgba.byteLength);
    job.output.ready
      .then(async (json) => {
        await sharp(pixels, { raw: { width: job.width, height: job.height, channels: 4 } }).removeAlpha().png().toFile(job.file);
        return json;
      })
      .then(
        (json) => {
          job.written = true;
          flushInOrder(job.output, json);
        },
        (err: Error) => {
          job.written = false;
          fail(job.file, err);
          flushInOrder(job.output, undefined);
        },
      )
      // A failed PNG is this writer's failure, counted above, not the queue's: later frames may still land.
      .finally(taken);
  };

  // Every frame is written, none dropped: past its bound the queue asks the pipeline to wait.
  const queue = new SinkQueue<PngJob>({
    transmit: encode,
    byteLength: (job) => job.rgba.byteLength,
    overflow: 'backpressure',
    ...limits,
  });

  const warnIfBehind = (frameBytes: number) => {
    const pending = queue.pendingMessages;
    if (pending <= PENDING_WRITES_WARNING / 2) warnedAt = 0;
    // Warn when the backlog first passes the mark, then each time it doubles.
    if (pending > PENDING_WRITES_WARNING && pending >= 2 * warnedAt) {
      warnedAt = pending;
      const heldMb = ((pending * frameBytes) / 1e6).toFixed(0);
      log.warn(
        `panoptic-png: ${pending} PNG writes pending (about ${heldMb} MB held): encoding or the disk is slower ` +
          `than the pipeline; every frame is still written`,
      );
    }
  };

  return {
    /** Why files are not being written (the first that failed and how many did), once any is not. */
    get failure(): string | undefined {
      return failures === 0 ? undefined : `${failures} files could not be written (first: ${firstFailure})`;
    },

    /** PNG writes not finished yet. */
    get pending(): number {
      return queue.pendingMessages;
    },

    /** The PNG queue: bytes of frames waiting and being encoded. */
    get backlog(): QueueBacklog {
      return queue.backlog;
    },

    /** A promise while more than `maxQueuedBytes` of frames wait to be encoded. */
    backpressure(): Promise<void> | undefined {
      return queue.backpressure();
    },

    write(stream: string, seq: number, panoptic: PanopticFrame): void {
      const output = outputFor(stream);
      const { ids, rgba, areas } = cocoSegmentMap(panoptic);
      const stem = String(seq).padStart(6, '0');
      const fileName = `${stem}.png`;
      const segmentsInfo: CocoSegmentInfo[] = [];
      panoptic.segments.forEach((segment, k) => {
        if (segment.isThing) output.thingClasses.add(segment.classId);
        // panopticapi rejects a listed segment without pixels.
        if (areas[k] === 0) return;
        segmentsInfo.push({ id: ids[k], category_id: segment.classId, iscrowd: 0, area: areas[k], bbox: toXywh(segment.bbox) });
      });
      output.classNames = panoptic.classes.names;
      const job: PngJob = {
        output,
        file: path.join(output.folder, fileName),
        rgba,
        width: panoptic.width,
        height: panoptic.height,
        image: { id: stem, file_name: fileName, width: panoptic.width, height: panoptic.height },
        annotation: { image_id: stem, file_name: fileName, segments_info: segmentsInfo },
        written: undefined,
      };
      output.inOrder.push(job);
      queue.push(job);
      warnIfBehind(rgba.byteLength);
    },

    /** Waits for every PNG, then writes each stream's panoptic.json. Rejects if any write failed. */
    async close(): Promise<void> {
      await queue.drained();
      queue.close();
      for (const output of streams.values()) {
        const file = path.join(output.folder, 'panoptic.json');
        try {
          const json = await output.ready;
          const categories: CocoCategory[] = output.classNames.map((name, id) => ({ id, name, isthing: output.thingClasses.has(id) ? 1 : 0 }));
          const frames = await json.finish(categories);
          log.info(`panoptic-png: ${frames} frames in ${output.folder}`);
        } catch (err) {
          fail(file, err as Error);
        }
      }
      if (failures) throw new Error(`panoptic-png: ${failures} files could not be written (first: ${firstFailure})`);
    },
  };
}

export const panopticPngSink = defineSink({
  type: 'panoptic-png',
  description: 'Writes each frame as a COCO panoptic PNG (track ids as instance ids) and a COCO panoptic JSON per stream.',
  options: z.object({
    dir: z.string().describe('Folder to write into: <dir>/<stream>/<seq>.png and <dir>/<stream>/panoptic.json'),
    optional: optionalSinkOption,
  }),
  async create(options, ctx) {
    const problem = outputFolderProblem(options.dir);
    if (problem) throw new Error(`panoptic-png: ${problem}`);
    const writer = createPanopticPngWriter(options.dir, ctx.log);
    ctx.log.info(`panoptic PNGs to ${path.resolve(options.dir)}`);
    return {
      write(packet) {
        if (packet.panoptic) writer.write(packet.frame.stream, packet.frame.seq, packet.panoptic);
      },
      backpressure: () => writer.backpressure(),
      get backlog() {
        return writer.backlog;
      },
      failure: () => writer.failure,
      close: () => writer.close(),
    };
  },
});
