import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '../../pipeline/log.ts';
import { openQueuedFile, type QueuedFile } from '../../servers/queue/queued-file.ts';
import { totalBacklog, type QueueBacklog } from '../../servers/queue/sink-queue.ts';

export interface CocoSegmentInfo {
  readonly id: number;
  readonly category_id: number;
  readonly iscrowd: 0;
  readonly area: number;
  readonly bbox: readonly [number, number, number, number];
}

export type CocoImage = { id: string; file_name: string; width: number; height: number };
export type CocoAnnotation = { image_id: string; file_name: string; segments_info: CocoSegmentInfo[] };
export type CocoCategory = { id: number; name: string; isthing: 0 | 1 };

export interface CocoPanopticFile {
  readonly images: CocoImage[];
  readonly annotations: CocoAnnotation[];
  readonly categories: CocoCategory[];
}

/**
 * A COCO panoptic JSON written as the frames come, so a run of many hours holds no list of its
 * frames in memory: each image and annotation goes at once to a part file of its own (through
 * the sinks' lossless file queue), and `finish` stitches the parts into the final file.
 *
 * The final file is byte for byte what `JSON.stringify` gives for the whole
 * {@link CocoPanopticFile}: `{"images":[...],"annotations":[...],"categories":[...]}`.
 */
export interface CocoPanopticJsonWriter {
  readonly file: string;
  add(image: CocoImage, annotation: CocoAnnotation): void;
  /** A promise while a part file is behind the disk by more than its bound. */
  backpressure(): Promise<void> | undefined;
  readonly backlog: QueueBacklog;
  /** Writes the final file with `categories`, removes the parts, and resolves with the number of images. */
  finish(categories: readonly CocoCategory[]): Promise<number>;
}

export async function openCocoPanopticJson(file: string, log: Logger): Promise<CocoPanopticJsonWriter> {
  const imagesFile = `${file}.images.part`;
  const annotationsFile = `${file}.annotations.part`;
  const images = await openQueuedFile(imagesFile, 'panoptic-png', log);
  let annotations: QueuedFile;
  try {
    annotations = await openQueuedFile(annotationsFile, 'panoptic-png', log);
  } catch (error) {
    await images.close().catch(() => undefined);
    throw error;
  }
  let count = 0;
  return {
    file,
    add(image, annotation) {
      const separator = count === 0 ? '' : ',';
      images.write(separator + JSON.stringify(image));
      annotations.write(separator + JSON.stringify(annotation));
      count++;
    },
    backpressure: () => images.backpressure() ?? annotations.backpressure(),
    get backlog() {
      return totalBacklog([images, annotations]);
    },
    async finish(categories) {
      try {
        const closing = await Promise.allSettled([images.close(), annotations.close()]);
        for (const result of closing) if (result.status === 'rejected') throw result.reason;
        await pipeline(async function* () {
          yield '{"images":[';
          yield* createReadStream(imagesFile);
          yield '],"annotations":[';
          yield* createReadStream(annotationsFile);
          yield `],"categories":${JSON.stringify(categories)}}`;
        }, createWriteStream(file));
        return count;
      } finally {
        await Promise.all([rm(imagesFile, { force: true }), rm(annotationsFile, { force: true })]);
      }
    },
  };
}
