/**
 * Masks for box-only detections (YOLOX, NanoDet, the YOLO detect head): inside the box, the
 * pixels the semantic model gives the detection's class (a COCO person takes Cityscapes person
 * and rider pixels; car, truck, bus, bicycle, motorcycle their own), when it gives enough of
 * them; else the whole box. The segment records which (`maskSource`), since a box-shaped
 * "mask" says nothing about the object's outline.
 */
import type { MaskSource } from '../../pipeline/frame.ts';

/** A thing as fusion paints it into the segment map. */
export interface PaintedThing {
  readonly instance: number;
  classId: number;
  area: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  /** Pixels its mask had before others took theirs: what `minVisibleFraction` compares with. */
  maskArea: number;
  readonly maskSource: MaskSource;
  /** Of its pixels, those the semantic model calls `rider` (a vote fusion may act on, for a person). */
  riderPixels: number;
}

/** Nearest-neighbour tables from frame pixels to label-map pixels (fuse-panoptic.ts LabelScaler). */
export interface LabelLookup {
  readonly columns: Int32Array;
  readonly rowStarts: Int32Array;
}

export interface DetectionPaint {
  /** The detection's box in frame pixels. */
  readonly box: ArrayLike<number>;
  readonly boxAt: number;
  /** Its panoptic (semantic) class. */
  readonly classId: number;
  /** A second semantic class that counts as the same thing (rider for person), or -1. */
  readonly alsoClassId: number;
  /** Below this fraction of the box's free pixels, the semantic pixels are not the object: use the box. */
  readonly minSemanticFraction: number;
}

/**
 * Claims the detection's pixels that no higher-scoring thing took, for segment `id`: the
 * semantic pixels of its class inside the box, or the box. Two passes over the box, no
 * allocation.
 */
export function paintDetection(
  detection: DetectionPaint,
  instance: number,
  id: number,
  segmentMap: Uint32Array,
  labels: Uint8Array,
  scale: LabelLookup,
  width: number,
  height: number,
): PaintedThing {
  const { box, boxAt, classId, alsoClassId } = detection;
  const left = Math.max(0, Math.floor(box[boxAt]!));
  const top = Math.max(0, Math.floor(box[boxAt + 1]!));
  const right = Math.min(width, Math.ceil(box[boxAt + 2]!));
  const bottom = Math.min(height, Math.ceil(box[boxAt + 3]!));

  let free = 0;
  let matching = 0;
  for (let y = top; y < bottom; y++) {
    const labelRow = scale.rowStarts[y]!;
    for (let x = left, p = y * width + left; x < right; x++, p++) {
      if (segmentMap[p] !== 0) continue;
      free++;
      const c = labels[labelRow + scale.columns[x]!];
      if (c === classId || c === alsoClassId) matching++;
    }
  }
  const semantic = matching > 0 && matching >= detection.minSemanticFraction * free;
  const thing: PaintedThing = {
    instance,
    classId,
    area: 0,
    x1: width,
    y1: height,
    x2: -1,
    y2: -1,
    maskArea: semantic ? matching : free,
    maskSource: semantic ? 'semantic' : 'box',
    riderPixels: 0,
  };
  let alsoPixels = 0;
  for (let y = top; y < bottom; y++) {
    const labelRow = scale.rowStarts[y]!;
    for (let x = left, p = y * width + left; x < right; x++, p++) {
      if (segmentMap[p] !== 0) continue;
      if (semantic) {
        const c = labels[labelRow + scale.columns[x]!];
        if (c !== classId && c !== alsoClassId) continue;
      }
      segmentMap[p] = id;
      thing.area++;
      if (alsoClassId >= 0 && labels[labelRow + scale.columns[x]!] === alsoClassId) alsoPixels++;
      if (x < thing.x1) thing.x1 = x;
      if (x > thing.x2) thing.x2 = x;
      if (y < thing.y1) thing.y1 = y;
      if (y > thing.y2) thing.y2 = y;
    }
  }
  thing.riderPixels = alsoPixels;
  return thing;
}
