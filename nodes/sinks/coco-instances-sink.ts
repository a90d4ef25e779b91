import path from 'node:path';
import { z } from 'zod';
import { rleFromRuns, rleToJson } from '../../lib/formats/coco-rle.ts';
import type { CocoCategory } from '../../lib/formats/coco-instances.ts';
import { toXywh } from '../../lib/geometry/box.ts';
import { runsArea } from '../../lib/geometry/pixel-runs.ts';
import type { FramePacket, Segment } from '../../pipeline/frame.ts';
import type { Logger } from '../../pipeline/log.ts';
import { defineSink, optionalSinkOption } from '../../pipeline/node.ts';
import { openLineFile, type LineFile } from './line-file.ts';
import { firstBackpressure, totalBacklog, type QueueBacklog } from '../../servers/queue/sink-queue.ts';

/**
 * The run's instances in the COCO formats, so a run can be scored with `panoptes eval instance`
 * (or pycocotools) and one run can serve as the ground truth of another:
 *
 *     <path>             results: [{image_id, category_id, bbox, score, segmentation, track_id}, ...]
 *     <name>.gt<ext>     the same instances as ground truth: annotations, images, categories
 *
 * The instances are the panoptic thing segments whose track is confirmed in the frame (all thing
 * segments when the chain has no tracker): masks as compressed RLE of the frame, `bbox` `[x, y,
 * width, height]` of the mask, the detection score, `track_id` when tracked. `image_id` is the
 * frame number counted from 1 (as MOT files count), `file_name` the PNG name `--save-panoptic`
 * gives the frame; `category_id` is the class index in the model's class list, and `categories`
 * in the ground-truth file names every thing class of it.
 *
 * Both files are written as the frames come, one instance per line, so memory stays bounded on
 * long runs: the images list is kept as ranges of frame numbers and written at the end. With
 * several streams, each gets its own pair of files, `<name>-<stream><ext>` and
 * `<name>-<stream>.gt<ext>`.
 *
 * ```yaml
 * sinks:
 *   - { type: coco-instances, path: out/instances.json }
 * ```
 */

/** Where the ground-truth twin of a results file goes: `run.json` → `run.gt.json`. */
export function groundTruthPathOf(resultsPath: string): string {
  const { dir, name, ext } = path.parse(resultsPath);
  return path.join(dir, `${name}.gt${ext || '.json'}`);
}

/** The instances of a frame: thing segments, confirmed ones only when there is a tracker. */
export function savedSegments(packet: FramePacket): Segment[] {
  const tracked = packet.tracks !== undefined;
  return (packet.panoptic?.segments ?? []).filter((s) => s.isThing && s.area > 0 && (!tracked || s.trackState === 'confirmed'));
}

const roundScore = (score: number): number => Math.round(score * 1e6) / 1e6;

/** The writer behind the sink, for one stream; exported for tests. */
export async function openCocoInstancesWriter(resultsPath: string, log: Logger, what = 'instances') {
  const results = await openLineFile(resultsPath, what, log);
  let groundTruth: LineFile;
  try {
    groundTruth = await openLineFile(groundTruthPathOf(resultsPath), `${what} as ground truth`, log);
  } catch (error) {
    await results.close();
    throw error;
  }
  let written = 0;
  let size: { readonly width: number; readonly height: number } | undefined;
  let categories: CocoCategory[] = [];
  /** Frame numbers written, as `[first, last]` ranges in the order they came. */
  const frames: [number, number][] = [];
  results.write('[');
  groundTruth.write('{"annotations":[');
  return {
    write(packet: FramePacket): void {
      const panoptic = packet.panoptic;
      if (!panoptic) return;
      const imageId = packet.frame.seq + 1;
      const last = frames[frames.length - 1];
      if (last && last[1] === imageId - 1) last[1] = imageId;
      else frames.push([imageId, imageId]);
      size ??= { width: panoptic.width, height: panoptic.height };
      if (categories.length === 0) {
        const { names, isThing } = panoptic.classes;
        categories = names.map((name, id) => ({ id, name })).filter((c) => isThing[c.id]);
      }
      for (const segment of savedSegments(packet)) {
        const segmentation = rleToJson(rleFromRuns(segment.runs, panoptic.width, panoptic.height, segment.bbox));
        const common = {
          image_id: imageId,
          category_id: segment.classId,
          bbox: toXywh(segment.bbox),
          ...(segment.trackId === undefined ? {} : { track_id: segment.trackId }),
        };
        const separator = written === 0 ? '' : ',';
        written++;
        results.write(separator + JSON.stringify({ ...common, score: roundScore(segment.score), segmentation }));
        groundTruth.write(separator + JSON.stringify({ id: written, ...common, area: runsArea(segment.runs), iscrowd: 0, segmentation }));
      }
    },

    /** A promise while either file's disk is behind (the shared file queue's backpressure). */
    backpressure(): Promise<void> | undefined {
      return results.backpressure() ?? groundTruth.backpressure();
    },

    get backlog(): QueueBacklog {
      return totalBacklog([results, groundTruth]);
    },

    /** Why either file stopped being written (the disk failed), once it has. */
    get failure(): string | undefined {
      return results.failure ?? groundTruth.failure;
    },

    async close(): Promise<void> {
      results.write(']');
      groundTruth.write('],"images":[');
      const { width, height } = size ?? { width: 0, height: 0 };
      let images = 0;
      for (const [first, last] of frames) {
        for (let id = first; id <= last; id++, images++) {
          const image = { id, width, height, file_name: `${String(id - 1).padStart(6, '0')}.png` };
          groundTruth.write((images === 0 ? '' : ',') + JSON.stringify(image));
        }
      }
      groundTruth.write(`],"categories":${JSON.stringify(categories)}}`);
      await Promise.all([results.close(), groundTruth.close()]);
      log.info(`${what}: ${written} instances in ${images} frames`);
    },
  };
}

export const cocoInstancesSink = defineSink({
  type: 'coco-instances',
  description: 'Writes confirmed thing instances as COCO results (RLE masks, boxes, scores) and as COCO ground truth.',
  options: z.object({
    path: z.string().describe('Results file to write; the ground truth goes beside it as <name>.gt<ext>; with several streams, one pair per stream'),
    optional: optionalSinkOption,
  }),
  async create(options, ctx) {
    const writers = new Map<string, Awaited<ReturnType<typeof openCocoInstancesWriter>>>();
    try {
      for (const stream of ctx.streams) {
        const { dir, name, ext } = path.parse(options.path);
        const file = ctx.streams.length === 1 ? options.path : path.join(dir, `${name}-${stream}${ext}`);
        writers.set(stream, await openCocoInstancesWriter(file, ctx.log, `instances of ${stream}`));
      }
    } catch (error) {
      // The graph never gets this sink to close: close what was already opened.
      await Promise.all([...writers.values()].map((w) => w.close()));
      throw error;
    }
    return {
      write(packet) {
        writers.get(packet.frame.stream)?.write(packet);
      },
      // A disk that is behind makes the pipeline wait: no instance is ever dropped.
      backpressure: () => firstBackpressure(writers.values()),
      get backlog() {
        return totalBacklog(writers.values());
      },
      // A file that stopped being written is reported at once, and the run's exit code says so.
      failure: () => [...writers.values()].find((w) => w.failure !== undefined)?.failure,
      async close() {
        await Promise.all([...writers.values()].map((w) => w.close()));
      },
    };
  },
});
