import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { z } from 'zod';
import { panopticRgbaWord } from '../../lib/formats/coco-panoptic-ids.ts';
import { toXywh } from '../../lib/geometry/box.ts';
import type { PanopticFrame, Segment } from '../../pipeline/frame.ts';
import type { Logger } from '../../pipeline/log.ts';
import { defineSink } from '../../pipeline/node.ts';

/**
 * The pipeline's panoptic output in the COCO panoptic format, so that a run can be scored with
 * `panoptes eval panoptic` or `eval video-panoptic` (or panopticapi) against ground truth:
 *
 *     <dir>/<stream>/<seq, 6 digits>.png   RGB, segment id = R + 256·G + 256²·B, 0 = void
 *     <dir>/<stream>/panoptic.json         images, annotations (segments_info), categories
 *
 * Segment ids are chosen so that one object keeps one id from frame to frame (what video
 * metrics need) and ids never collide within a frame:
 * - a thing with a track: its `trackId`, the id events and MOT files show (1 .. 2^23 − 1);
 * - a thing without a track: 2^23 + its segment id (changes from frame to frame);
 * - stuff: 2^24 − 256 + its class index, one id per stuff class in every frame.
 * A segment whose preferred id is taken or out of range falls back to the next free id from 2^23.
 * `category_id` is the class index in the model's class list; `categories` lists every class,
 * with `isthing` 1 for the classes seen as things during the run.
 *
 * `write` never blocks the pipeline: it copies the segment map into a new RGBA buffer (the
 * packet's buffers go back to their pool as soon as it returns; ~3 ms for 960x540 here) and
 * hands it to sharp, which drops the alpha and encodes the RGB PNG on the libuv thread pool.
 * Every frame is written, none dropped: when encoding or the disk falls behind, pending writes
 * grow (each holds its copy) and a warning says so. The JSON is written on close(), once every
 * PNG has landed, and lists only the PNGs written.
 *
 * ```yaml
 * sinks:
 *   - { type: panoptic-png, dir: out/panoptic }
 * ```
 */

/** Pending PNG writes above which a warning is logged (never a reason to drop a frame). */
export const PENDING_WRITES_WARNING = 8;

const UNTRACKED_BASE = 2 ** 23;
const STUFF_BASE = 2 ** 24 - 256;

export interface CocoSegmentInfo {
  readonly id: number;
  readonly category_id: number;
  readonly iscrowd: 0;
  readonly area: number;
  readonly bbox: readonly [number, number, number, number];
}

export interface CocoPanopticFile {
  readonly images: { id: string; file_name: string; width: number; height: number }[];
  readonly annotations: { image_id: string; file_name: string; segments_info: CocoSegmentInfo[] }[];
  readonly categories: { id: number; name: string; isthing: 0 | 1 }[];
}

/** The id a segment asks for, or undefined when its number does not fit its range. */
function preferredId(segment: Segment): number | undefined {
  const fits = (n: number, below: number) => Number.isInteger(n) && n >= 0 && n < below;
  if (!segment.isThing) return fits(segment.classId, 256) ? STUFF_BASE + segment.classId : undefined;
  if (segment.trackId !== undefined) return segment.trackId > 0 && fits(segment.trackId, UNTRACKED_BASE) ? segment.trackId : undefined;
  return fits(segment.id, STUFF_BASE - UNTRACKED_BASE) ? UNTRACKED_BASE + segment.id : undefined;
}

/** The PNG id of each segment, in `segments` order, unique within the frame (see the rules above). */
export function cocoSegmentIds(segments: readonly Segment[]): number[] {
  const used = new Set<number>();
  let nextFree = UNTRACKED_BASE;
  return segments.map((segment) => {
    let id = preferredId(segment);
    if (id === undefined || used.has(id)) {
      while (used.has(nextFree)) nextFree++;
      id = nextFree;
    }
    used.add(id);
    return id;
  });
}

/**
 * Fills `rgba` (one word per pixel: bytes R, G, B, 255) with the COCO encoding of `panoptic`'s
 * segment map and returns each segment's pixel count, in `segments` order. Pixels of ids the
 * segment list lacks become void. One 32-bit store per pixel rather than three byte stores:
 * sharp drops the alpha channel on its own threads.
 */
export function encodeSegmentMap(panoptic: PanopticFrame, ids: readonly number[], rgba: Uint32Array): Float64Array {
  // Slot 0 is void; segment k is slot k + 1. The Map lookup, the word and the area update
  // happen only where the segment id changes along the rows.
  const slotOf = new Map<number, number>(panoptic.segments.map((s, k) => [s.id, k + 1]));
  const slotWords = Uint32Array.from([0, ...ids], panopticRgbaWord);
  const areas = new Float64Array(slotWords.length);
  const map = panoptic.segmentMap;
  let lastSegment = -1;
  let slot = 0;
  let word = slotWords[0];
  let runStart = 0;
  for (let p = 0; p < map.length; p++) {
    const segment = map[p];
    if (segment !== lastSegment) {
      areas[slot] += p - runStart;
      runStart = p;
      lastSegment = segment;
      slot = segment === 0 ? 0 : (slotOf.get(segment) ?? 0);
      word = slotWords[slot];
    }
    rgba[p] = word;
  }
  areas[slot] += map.length - runStart;
  return areas.subarray(1);
}

/** A stream id as a folder name: anything but letters, digits, `.`, `_` and `-` becomes `_`. */
export const streamFolderName = (stream: string): string => stream.replace(/[^A-Za-z0-9._-]/g, '_') || '_';

interface StreamOutput {
  readonly folder: string;
  readonly ready: Promise<unknown>;
  readonly images: CocoPanopticFile['images'];
  readonly annotations: CocoPanopticFile['annotations'];
  /** Indices into `annotations` whose PNG could not be written; left out of the JSON. */
  readonly failed: Set<number>;
  classNames: readonly string[];
  readonly thingClasses: Set<number>;
}

/** The writer behind the sink; exported for tests and for embedding. */
export function createPanopticPngWriter(dir: string, log: Logger) {
  const root = path.resolve(dir);
  const streams = new Map<string, StreamOutput>();
  const inFlight = new Set<Promise<void>>();
  let warnedAt = 0;
  let failures = 0;
  let firstFailure: string | undefined;

  const outputFor = (stream: string): StreamOutput => {
    let output = streams.get(stream);
    if (!output) {
      const folder = path.join(root, streamFolderName(stream));
      // A failed mkdir fails each PNG write of the stream, which is logged and counted.
      const ready = mkdir(folder, { recursive: true });
      ready.catch(() => undefined);
      output = { folder, ready, images: [], annotations: [], failed: new Set(), classNames: [], thingClasses: new Set() };
      streams.set(stream, output);
    }
    return output;
  };

  const encodeLater = (output: StreamOutput, index: number, file: string, rgba: Uint32Array, width: number, height: number) => {
    const pixels = new Uint8Array(rgba.buffer, rgba.byteOffset, rgba.byteLength);
    const job = output.ready
      .then(() => sharp(pixels, { raw: { width, height, channels: 4 } }).removeAlpha().png().toFile(file))
      .then(
        () => undefined,
        (err: Error) => {
          output.failed.add(index);
          failures++;
          firstFailure ??= `${file}: ${err.message}`;
          log.error(`panoptic-png: cannot write ${file}: ${err.message}`);
        },
      )
      .finally(() => {
        inFlight.delete(job);
        if (inFlight.size <= PENDING_WRITES_WARNING / 2) warnedAt = 0;
      });
    inFlight.add(job);
    // Warn when the backlog first passes the mark, then each time it doubles.
    if (inFlight.size > PENDING_WRITES_WARNING && inFlight.size >= 2 * warnedAt) {
      warnedAt = inFlight.size;
      const heldMb = ((inFlight.size * rgba.byteLength) / 1e6).toFixed(0);
      log.warn(
        `panoptic-png: ${inFlight.size} PNG writes pending (about ${heldMb} MB held): encoding or the disk is slower ` +
          `than the pipeline; every frame is still written`,
      );
    }
  };

  return {
    /** PNG writes not finished yet. */
    get pending(): number {
      return inFlight.size;
    },

    write(stream: string, seq: number, panoptic: PanopticFrame): void {
      const output = outputFor(stream);
      const ids = cocoSegmentIds(panoptic.segments);
      const rgba = new Uint32Array(panoptic.width * panoptic.height);
      const areas = encodeSegmentMap(panoptic, ids, rgba);
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
      output.images.push({ id: stem, file_name: fileName, width: panoptic.width, height: panoptic.height });
      output.annotations.push({ image_id: stem, file_name: fileName, segments_info: segmentsInfo });
      encodeLater(output, output.annotations.length - 1, path.join(output.folder, fileName), rgba, panoptic.width, panoptic.height);
    },

    /** Waits for every PNG, then writes each stream's panoptic.json. Rejects if any write failed. */
    async close(): Promise<void> {
      while (inFlight.size) await Promise.all(inFlight);
      for (const output of streams.values()) {
        const keep = (_: unknown, index: number) => !output.failed.has(index);
        const json: CocoPanopticFile = {
          images: output.images.filter(keep),
          annotations: output.annotations.filter(keep),
          categories: output.classNames.map((name, id) => ({ id, name, isthing: output.thingClasses.has(id) ? 1 : 0 })),
        };
        const file = path.join(output.folder, 'panoptic.json');
        try {
          await output.ready;
          await writeFile(file, JSON.stringify(json));
          log.info(`panoptic-png: ${json.annotations.length} frames in ${output.folder}`);
        } catch (err) {
          failures++;
          firstFailure ??= `${file}: ${(err as Error).message}`;
          log.error(`panoptic-png: cannot write ${file}: ${(err as Error).message}`);
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
  }),
  async create(options, ctx) {
    await mkdir(path.resolve(options.dir), { recursive: true }).catch((err: Error) => {
      throw new Error(`panoptic-png: cannot create ${path.resolve(options.dir)}: ${err.message}`);
    });
    const writer = createPanopticPngWriter(options.dir, ctx.log);
    ctx.log.info(`panoptic PNGs to ${path.resolve(options.dir)}`);
    return {
      write(packet) {
        if (packet.panoptic) writer.write(packet.frame.stream, packet.frame.seq, packet.panoptic);
      },
      close: () => writer.close(),
    };
  },
});
