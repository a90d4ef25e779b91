/**
 * COCO object detection and instance segmentation files (cocodataset.org/#format-data):
 *
 * - ground truth (`instances_*.json`): `images` (`id`, `width`, `height`), `annotations` (`id`,
 *   `image_id`, `category_id`, `bbox` as `[x, y, width, height]`, `segmentation`, `area`,
 *   `iscrowd`) and `categories` (`id`, `name`);
 * - results: a JSON list of `{image_id, category_id, score, bbox | segmentation}`.
 *
 * A segmentation is a list of polygons `[[x0, y0, x1, y1, ...], ...]`, an uncompressed RLE
 * `{size: [h, w], counts: [numbers]}` or a compressed one `{size: [h, w], counts: "string"}`
 * (coco-rle.ts). Reading checks the shapes and says where a value is wrong.
 */
import { readFileSync } from 'node:fs';
import type { XywhBox } from '../geometry/box.ts';
import { checkedRle, decodeRleCounts, rleFromPolygon, rleUnion, type CocoRle, type CocoRleJson } from './coco-rle.ts';

/** Image, annotation and category ids: COCO uses whole numbers; strings are accepted too. */
export type CocoId = number | string;

export interface CocoImage {
  readonly id: CocoId;
  readonly width: number;
  readonly height: number;
  readonly file_name?: string;
}

export interface CocoCategory {
  readonly id: CocoId;
  readonly name: string;
  readonly supercategory?: string;
}

export interface CocoUncompressedRleJson {
  readonly size: readonly [height: number, width: number];
  readonly counts: readonly number[];
}

export type CocoPolygons = readonly (readonly number[])[];

export type CocoSegmentation = CocoPolygons | CocoRleJson | CocoUncompressedRleJson;

export interface CocoAnnotation {
  readonly id: CocoId;
  readonly image_id: CocoId;
  readonly category_id: CocoId;
  readonly bbox?: XywhBox;
  readonly segmentation?: CocoSegmentation;
  readonly area?: number;
  /** 1 (or true) for a crowd region. */
  readonly iscrowd?: number | boolean;
}

export interface CocoInstancesFile {
  readonly images: readonly CocoImage[];
  readonly annotations: readonly CocoAnnotation[];
  readonly categories: readonly CocoCategory[];
}

export interface CocoResult {
  readonly image_id: CocoId;
  readonly category_id: CocoId;
  readonly score: number;
  readonly bbox?: XywhBox;
  readonly segmentation?: CocoSegmentation;
  /** Panoptes adds the track a result belongs to; COCO tools ignore it. */
  readonly track_id?: number;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Reads a JSON file; the messages name the file and what it was meant to be. */
export function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${what} ${file}: cannot read it: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`${what} ${file}: not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

class Checker {
  constructor(readonly source: string) {}

  fail(where: string, problem: string): never {
    throw new Error(`${this.source}: ${where} ${problem}`);
  }

  id(value: unknown, where: string): CocoId {
    if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'string') return value;
    return this.fail(where, `must be a number or a string, got ${JSON.stringify(value) ?? 'nothing'}`);
  }

  number(value: unknown, where: string): number {
    if (isFiniteNumber(value)) return value;
    return this.fail(where, `must be a number, got ${JSON.stringify(value) ?? 'nothing'}`);
  }

  xywh(value: unknown, where: string): XywhBox {
    if (Array.isArray(value) && value.length === 4 && value.every(isFiniteNumber)) return value as unknown as XywhBox;
    return this.fail(where, `must be [x, y, width, height] (4 numbers), got ${JSON.stringify(value) ?? 'nothing'}`);
  }

  size(value: unknown, where: string): readonly [number, number] {
    if (Array.isArray(value) && value.length === 2 && value.every((n) => Number.isInteger(n) && (n as number) >= 0)) {
      return [value[0] as number, value[1] as number];
    }
    return this.fail(where, `must be [height, width] (2 whole numbers), got ${JSON.stringify(value) ?? 'nothing'}`);
  }

  segmentation(value: unknown, where: string): CocoSegmentation {
    if (Array.isArray(value)) {
      if (value.length === 0) this.fail(where, 'is an empty list of polygons; give at least one [x0, y0, x1, y1, ...]');
      value.forEach((polygon, i) => {
        if (!Array.isArray(polygon) || !polygon.every(isFiniteNumber)) {
          this.fail(`${where}[${i}]`, 'must be a polygon [x0, y0, x1, y1, ...] of numbers');
        }
        if (polygon.length < 4 || polygon.length % 2 !== 0) {
          this.fail(`${where}[${i}]`, `has ${polygon.length} numbers; a polygon needs x, y pairs of at least 3 points`);
        }
      });
      return value as CocoPolygons;
    }
    if (isObject(value) && 'counts' in value) {
      const size = this.size(value.size, `${where}.size`);
      const counts = value.counts;
      if (typeof counts === 'string') return { size, counts };
      if (Array.isArray(counts) && counts.every((n) => Number.isInteger(n) && (n as number) >= 0)) {
        return { size, counts: counts as number[] };
      }
      return this.fail(`${where}.counts`, 'must be a compressed RLE string or a list of whole numbers');
    }
    return this.fail(where, 'must be a list of polygons or an RLE {"size": [h, w], "counts": ...}');
  }

  list(value: unknown, where: string): unknown[] {
    if (Array.isArray(value)) return value;
    return this.fail(where, 'must be a list');
  }

  object(value: unknown, where: string): Json {
    if (isObject(value)) return value;
    return this.fail(where, 'must be an object');
  }
}

/** Checks a parsed COCO ground-truth file. */
export function parseCocoInstances(json: unknown, source: string): CocoInstancesFile {
  const check = new Checker(source);
  if (Array.isArray(json)) {
    check.fail('the file', 'is a list, as COCO results are; ground truth is an object with images, annotations and categories');
  }
  const root = check.object(json, 'the file');
  for (const key of ['images', 'annotations', 'categories']) {
    if (!(key in root)) check.fail('the file', `has no "${key}"; COCO ground truth has images, annotations and categories`);
  }
  const images = check.list(root.images, 'images').map((raw, i): CocoImage => {
    const image = check.object(raw, `images[${i}]`);
    const width = image.width;
    const height = image.height;
    if (!Number.isInteger(width) || !Number.isInteger(height) || (width as number) < 0 || (height as number) < 0) {
      check.fail(`images[${i}]`, 'needs whole-number width and height');
    }
    return { ...image, id: check.id(image.id, `images[${i}].id`), width: width as number, height: height as number };
  });
  const categories = check.list(root.categories, 'categories').map((raw, i): CocoCategory => {
    const category = check.object(raw, `categories[${i}]`);
    return { ...category, id: check.id(category.id, `categories[${i}].id`), name: String(category.name ?? category.id) };
  });
  const annotations = check.list(root.annotations, 'annotations').map((raw, i): CocoAnnotation => {
    const where = `annotations[${i}]`;
    const ann = check.object(raw, where);
    const iscrowd = ann.iscrowd;
    if (iscrowd !== undefined && typeof iscrowd !== 'boolean' && !isFiniteNumber(iscrowd)) check.fail(`${where}.iscrowd`, 'must be 0 or 1');
    return {
      id: check.id(ann.id, `${where}.id`),
      image_id: check.id(ann.image_id, `${where}.image_id`),
      category_id: check.id(ann.category_id, `${where}.category_id`),
      ...(ann.bbox === undefined ? {} : { bbox: check.xywh(ann.bbox, `${where}.bbox`) }),
      ...(ann.segmentation === undefined ? {} : { segmentation: check.segmentation(ann.segmentation, `${where}.segmentation`) }),
      ...(ann.area === undefined ? {} : { area: check.number(ann.area, `${where}.area`) }),
      ...(iscrowd === undefined ? {} : { iscrowd: iscrowd as number | boolean }),
    };
  });
  return { images, annotations, categories };
}

/** Checks a parsed COCO results file. */
export function parseCocoResults(json: unknown, source: string): CocoResult[] {
  const check = new Checker(source);
  if (isObject(json) && 'annotations' in json) {
    check.fail('the file', 'is an object with annotations, as ground truth is; COCO results are a list of {image_id, category_id, score, bbox | segmentation}');
  }
  return check.list(json, 'the file').map((raw, i): CocoResult => {
    const where = `result [${i}]`;
    const result = check.object(raw, where);
    if (result.bbox === undefined && result.segmentation === undefined) check.fail(where, 'has neither bbox nor segmentation');
    return {
      image_id: check.id(result.image_id, `${where}.image_id`),
      category_id: check.id(result.category_id, `${where}.category_id`),
      score: check.number(result.score, `${where}.score`),
      ...(result.bbox === undefined ? {} : { bbox: check.xywh(result.bbox, `${where}.bbox`) }),
      ...(result.segmentation === undefined ? {} : { segmentation: check.segmentation(result.segmentation, `${where}.segmentation`) }),
    };
  });
}

/**
 * A segmentation as an RLE, as pycocotools' `annToRLE` makes it: polygons are rasterized at the
 * image's size and merged; an RLE keeps its own size.
 */
export function segmentationToRle(segmentation: CocoSegmentation, imageHeight: number, imageWidth: number, what: string): CocoRle {
  if (Array.isArray(segmentation)) {
    return rleUnion((segmentation as CocoPolygons).map((p) => rleFromPolygon(p, imageHeight, imageWidth)));
  }
  const rle = segmentation as CocoRleJson | CocoUncompressedRleJson;
  const [height, width] = rle.size;
  const counts = typeof rle.counts === 'string' ? decodeRleCounts(rle.counts, what) : Uint32Array.from(rle.counts);
  return checkedRle(height, width, counts, what);
}
