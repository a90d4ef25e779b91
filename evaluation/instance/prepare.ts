/**
 * From a COCO ground truth and a results list to what matching reads: per image and category,
 * the ground-truth objects and detections with their areas and boxes or masks, in file order.
 *
 * What pycocotools' `loadRes` and `_prepare` do, reproduced:
 * - images are the ground truth's `images`, categories its `categories`, both sorted by id; a
 *   result on another image is an error, one of another category is not evaluated;
 * - a ground-truth object's area is its `area` field (used for the area ranges); `iscrowd`
 *   makes it a crowd region, matched without penalty;
 * - when the first result has a `bbox`, every result's area is its box's width x height (even
 *   for segm), and a result without a mask is the polygon of its box; otherwise a result's area
 *   is its mask's and its box the box of its mask (`toBbox`).
 */
import { rleArea, rleBbox, rleFromXywh, type CocoRle } from '../../lib/formats/coco-rle.ts';
import {
  segmentationToRle,
  type CocoCategory,
  type CocoId,
  type CocoInstancesFile,
  type CocoResult,
} from '../../lib/formats/coco-instances.ts';
import type { XywhBox } from '../../lib/geometry/box.ts';
import type { IouType } from './params.ts';

export interface GroundTruthObject {
  /** Its annotation id: pycocotools records a match by this id, so an id of 0 reads as no match. */
  readonly id: CocoId;
  readonly area: number;
  readonly crowd: boolean;
  readonly box: XywhBox;
  /** For segm only. */
  readonly mask: CocoRle | undefined;
}

export interface Detection {
  readonly score: number;
  readonly area: number;
  readonly box: XywhBox;
  readonly mask: CocoRle | undefined;
}

/** The objects of one image and one category, in file order. */
export interface Cell {
  readonly groundTruth: GroundTruthObject[];
  readonly detections: Detection[];
}

export interface PreparedEvaluation {
  readonly iouType: IouType;
  /** Sorted as pycocotools sorts them. */
  readonly imageIds: readonly CocoId[];
  readonly categories: readonly CocoCategory[];
  /** Keyed by `categoryIndex * imageIds.length + imageIndex`; absent when both lists are empty. */
  readonly cells: ReadonlyMap<number, Cell>;
  readonly groundTruthCount: number;
  readonly detectionCount: number;
  readonly warnings: readonly string[];
}

/** Python's `sorted` of ids: numbers by value, strings by code point; a mix has no order. */
function sortedIds(ids: Iterable<CocoId>, what: string): CocoId[] {
  const unique = [...new Set(ids)];
  const numbers = unique.filter((id): id is number => typeof id === 'number');
  if (numbers.length === unique.length) return numbers.sort((a, b) => a - b);
  if (numbers.length === 0) return (unique as string[]).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  throw new Error(`${what} mix numbers and strings (${JSON.stringify(numbers[0])} and ${JSON.stringify(unique.find((id) => typeof id === 'string'))}); use one kind`);
}

const xywhArea = (box: XywhBox): number => box[2] * box[3];

export function prepareEvaluation(gt: CocoInstancesFile, results: readonly CocoResult[], iouType: IouType): PreparedEvaluation {
  const warnings: string[] = [];
  const imageIds = sortedIds(gt.images.map((image) => image.id), 'image ids');
  const imageIndex = new Map(imageIds.map((id, i) => [id, i]));
  const imageOf = new Map(gt.images.map((image) => [image.id, image]));
  const categoryIds = sortedIds(gt.categories.map((c) => c.id), 'category ids');
  const categoryIndex = new Map(categoryIds.map((id, i) => [id, i]));
  const categoryById = new Map(gt.categories.map((c) => [c.id, c]));
  const categories = categoryIds.map((id) => categoryById.get(id)!);
  const cells = new Map<number, Cell>();
  const cellOf = (image: number, category: number): Cell => {
    const key = category * imageIds.length + image;
    let cell = cells.get(key);
    if (!cell) cells.set(key, (cell = { groundTruth: [], detections: [] }));
    return cell;
  };

  const seenIds = new Set<CocoId>();
  let groundTruthCount = 0;
  let computedAreas = 0;
  let boxesFromMasks = 0;
  let zeroIds = 0;
  gt.annotations.forEach((ann, i) => {
    const where = `ground truth annotations[${i}] (id ${JSON.stringify(ann.id)})`;
    if (seenIds.has(ann.id)) throw new Error(`${where}: the id is used twice; annotation ids must be unique`);
    seenIds.add(ann.id);
    const image = imageIndex.get(ann.image_id);
    if (image === undefined) throw new Error(`${where}: image_id ${JSON.stringify(ann.image_id)} is not in images`);
    const category = categoryIndex.get(ann.category_id);
    if (category === undefined) return; // pycocotools evaluates the listed categories only
    const { height, width } = imageOf.get(ann.image_id)!;
    let mask: CocoRle | undefined;
    if (iouType === 'segm') {
      if (ann.segmentation === undefined) throw new Error(`${where}: no segmentation, which segm evaluation needs; use --iou-type bbox`);
      mask = segmentationToRle(ann.segmentation, height, width, `${where}.segmentation`);
    }
    let box = ann.bbox;
    if (box === undefined) {
      const from = mask ?? (ann.segmentation && segmentationToRle(ann.segmentation, height, width, `${where}.segmentation`));
      if (!from) throw new Error(`${where}: neither bbox nor segmentation`);
      box = rleBbox(from);
      boxesFromMasks++;
    }
    let area = ann.area;
    if (area === undefined) {
      area = mask ? rleArea(mask) : xywhArea(box);
      computedAreas++;
    }
    if (ann.id === 0) zeroIds++;
    cellOf(image, category).groundTruth.push({ id: ann.id, area, crowd: Boolean(ann.iscrowd), box, mask });
    groundTruthCount++;
  });
  if (computedAreas) warnings.push(`${computedAreas} ground-truth annotations have no area; computed from the ${iouType === 'segm' ? 'mask' : 'box'}`);
  if (boxesFromMasks) warnings.push(`${boxesFromMasks} ground-truth annotations have no bbox; the box of the mask is used`);
  if (zeroIds) {
    warnings.push(`${zeroIds} ground-truth annotations have id 0, which pycocotools (and so this evaluation) counts as unmatched; number annotations from 1`);
  }

  // loadRes picks one rule for every result from the first one.
  const areaFromBox = results.length > 0 && results[0]!.bbox !== undefined;
  let detectionCount = 0;
  let otherCategory = 0;
  results.forEach((result, i) => {
    const where = `result [${i}]`;
    const image = imageIndex.get(result.image_id);
    if (image === undefined) {
      throw new Error(`${where}: image_id ${JSON.stringify(result.image_id)} is not an image of the ground truth; results must be of its images`);
    }
    const category = categoryIndex.get(result.category_id);
    if (category === undefined) {
      otherCategory++;
      return;
    }
    const { height, width } = imageOf.get(result.image_id)!;
    if (areaFromBox && result.bbox === undefined) {
      throw new Error(`${where}: no bbox, though the first result has one (pycocotools reads every result as the first); give every result a bbox or none`);
    }
    let mask: CocoRle | undefined;
    if (result.segmentation !== undefined && (iouType === 'segm' || result.bbox === undefined)) {
      mask = segmentationToRle(result.segmentation, height, width, `${where}.segmentation`);
    }
    if (iouType === 'segm' && mask === undefined) mask = rleFromXywh(result.bbox!, height, width);
    const box = result.bbox ?? rleBbox(mask!);
    const area = areaFromBox ? xywhArea(box) : rleArea(mask!);
    cellOf(image, category).detections.push({ score: result.score, area, box, mask });
    detectionCount++;
  });
  if (otherCategory) warnings.push(`${otherCategory} results have a category_id not in the ground truth's categories; not evaluated`);
  return { iouType, imageIds, categories, cells, groundTruthCount, detectionCount, warnings };
}
