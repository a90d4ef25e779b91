/**
 * Decodes the YOLOv8/11 output formats into {@link Instances}: boxes and class scores per anchor
 * (`output0`, `[1, 4 + classes (+ 32 mask coefficients), anchors]`), and for the segmentation
 * head 32 mask prototypes (`output1`, `[1, 32, ph, pw]`; 80x80 at 320, 160x160 at 640). Boxes
 * are fractions of the input or input pixels, as the catalog's `boxUnits` says. The detect head
 * is the same layout without coefficients and prototypes (yolo-detect), so one decoder reads
 * both.
 *
 * Per kept anchor the mask is `sigmoid(coefficients · prototypes) > 0.5`, cropped to the box and
 * mapped back through the letterbox into frame pixels. The product is only evaluated on the
 * prototype cells under the box, and `sigmoid(v) > 0.5` is tested as `v > 0` on the bilinearly
 * interpolated logits, so no per-pixel exp and no full-size upsampled mask.
 */
import type { ClassSet, InstanceMask, Instances } from '../../pipeline/frame.ts';
import { clamp, keptBoxesInFrame, type DecodeGeometry } from './box-detections.ts';
import { nonMaxSuppression } from './non-max-suppression.ts';

export interface YoloSegOptions {
  /** Detections scoring below this are ignored. Lower finds more, with more false positives. */
  readonly minScore: number;
  /** Boxes of one class overlapping more than this are duplicates; the higher score is kept. */
  readonly iouThreshold: number;
  readonly maxDetections: number;
  /** Class indices to keep; `undefined` keeps all. */
  readonly keepClass?: (classId: number) => boolean;
}

export interface YoloSegTensors {
  /** `output0` data and dims `[1, channels, anchors]`. */
  readonly predictions: Float32Array;
  readonly predictionDims: readonly number[];
  /** `output1` data and dims `[1, 32, ph, pw]`. */
  readonly prototypes: Float32Array;
  readonly prototypeDims: readonly number[];
}

/** A detect head's `output0`: the segmentation layout without mask coefficients and prototypes. */
export type YoloTensors = Pick<YoloSegTensors, 'predictions' | 'predictionDims'> & Partial<YoloSegTensors>;

/** Where the model's input came from in the frame, and how output0 gives its boxes. */
export interface YoloSegGeometry extends DecodeGeometry {
  /** output0's boxes: fractions of the input (ST's 320 export, the default) or input pixels (Ultralytics). */
  readonly boxUnits?: 'normalized' | 'pixels';
}

const MASK_COEFFICIENTS = 32;

export function decodeYoloSeg(
  model: string,
  classes: ClassSet,
  tensors: YoloSegTensors,
  geometry: YoloSegGeometry,
  options: YoloSegOptions,
): Instances {
  return decodeYolo(model, classes, tensors, geometry, options);
}

/**
 * Either YOLO head: with prototypes, instances with masks; without (the detect head), boxes
 * only (`masks` undefined).
 */
export function decodeYolo(
  model: string,
  classes: ClassSet,
  tensors: YoloTensors,
  geometry: YoloSegGeometry,
  options: YoloSegOptions,
): Instances {
  const [, channels, anchors] = tensors.predictionDims as [number, number, number];
  const withMasks = tensors.prototypes !== undefined && tensors.prototypeDims !== undefined;
  const classCount = channels - 4 - (withMasks ? MASK_COEFFICIENTS : 0);
  if (classCount !== classes.names.length) {
    throw new Error(
      `${model}: output0 has ${classCount} class rows, the catalog lists ${classes.names.length} classes (is the decoder right: yolo-seg reads 32 mask rows more than yolo-detect?)`,
    );
  }
  const p = tensors.predictions;

  // 1. Best class per anchor, above the score threshold. The scores are class-major (one row of
  // `anchors` per class): read them row by row, in memory order, keeping a running best per
  // anchor, rather than striding down a column per anchor (8400 x 80 floats at 640).
  const bestScores = new Float32Array(anchors).fill(options.minScore);
  const bestClasses = new Int32Array(anchors).fill(-1);
  for (let c = 0; c < classCount; c++) {
    const row = (4 + c) * anchors;
    for (let a = 0; a < anchors; a++) {
      const s = p[row + a]!;
      if (s >= bestScores[a]!) {
        bestScores[a] = s;
        bestClasses[a] = c;
      }
    }
  }
  const candidates: number[] = [];
  const candidateClass: number[] = [];
  const candidateScore: number[] = [];
  for (let a = 0; a < anchors; a++) {
    const best = bestClasses[a]!;
    if (best >= 0 && (!options.keepClass || options.keepClass(best))) {
      candidates.push(a);
      candidateClass.push(best);
      candidateScore.push(bestScores[a]!);
    }
  }

  // 2. Boxes in input pixels, then NMS there (the letterbox is uniform, so IoU is unchanged).
  const n = candidates.length;
  const inputBoxes = new Float32Array(n * 4);
  const normalized = (geometry.boxUnits ?? 'normalized') === 'normalized';
  const unitX = normalized ? geometry.inputWidth : 1;
  const unitY = normalized ? geometry.inputHeight : 1;
  for (let i = 0; i < n; i++) {
    const a = candidates[i]!;
    const cx = p[a]! * unitX;
    const cy = p[anchors + a]! * unitY;
    const w = p[2 * anchors + a]! * unitX;
    const h = p[3 * anchors + a]! * unitY;
    inputBoxes.set([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], i * 4);
  }
  const kept = nonMaxSuppression(
    inputBoxes,
    Float32Array.from(candidateScore),
    Int32Array.from(candidateClass),
    options.iouThreshold,
    options.maxDetections,
  );

  // 3. Undo the letterbox, clip to the frame (or the slice), and decode each kept mask.
  const count = kept.length;
  const boxes = keptBoxesInFrame(inputBoxes, kept, geometry);
  const scores = new Float32Array(count);
  const classIds = new Int32Array(count);
  const masks: InstanceMask[] = [];
  const coefficients = new Float32Array(MASK_COEFFICIENTS);
  kept.forEach((i, k) => {
    scores[k] = candidateScore[i]!;
    classIds[k] = candidateClass[i]!;
    if (!withMasks) return;
    const a = candidates[i]!;
    for (let m = 0; m < MASK_COEFFICIENTS; m++) coefficients[m] = p[(4 + classCount + m) * anchors + a]!;
    masks.push(decodeMask(coefficients, tensors as YoloSegTensors, geometry, boxes[k * 4]!, boxes[k * 4 + 1]!, boxes[k * 4 + 2]!, boxes[k * 4 + 3]!));
  });

  return { model, count, boxes, scores, classIds, classes, masks: withMasks ? masks : undefined };
}

/** The instance's mask over the integer box `[x1, x2) x [y1, y2)` of the frame. */
function decodeMask(
  coefficients: Float32Array,
  tensors: YoloSegTensors,
  geometry: YoloSegGeometry,
  x1: number,
  y1: number,
  x2: number,
  y2: number,
): InstanceMask {
  const [, , ph, pw] = tensors.prototypeDims as [number, number, number, number];
  const protos = tensors.prototypes;
  const { transform: t } = geometry;
  const strideX = geometry.inputWidth / pw;
  const strideY = geometry.inputHeight / ph;
  const left = Math.floor(x1);
  const top = Math.floor(y1);
  const width = Math.max(0, Math.ceil(x2) - left);
  const height = Math.max(0, Math.ceil(y2) - top);
  const data = new Uint8Array(width * height);
  if (width === 0 || height === 0) return { x: left, y: top, width, height, data };

  // Prototype coordinate of a frame pixel centre: input = frame * scale + pad; proto = input / stride.
  const toGridX = (fx: number) => ((fx + 0.5) * t.scaleX + t.padX) / strideX - 0.5;
  const toGridY = (fy: number) => ((fy + 0.5) * t.scaleY + t.padY) / strideY - 0.5;
  const gx0 = clamp(Math.floor(toGridX(left)), 0, pw - 1);
  const gx1 = clamp(Math.ceil(toGridX(left + width - 1)), 0, pw - 1);
  const gy0 = clamp(Math.floor(toGridY(top)), 0, ph - 1);
  const gy1 = clamp(Math.ceil(toGridY(top + height - 1)), 0, ph - 1);
  const gridW = gx1 - gx0 + 1;
  const gridH = gy1 - gy0 + 1;

  // Mask logits on the prototype cells under the box only.
  const logits = new Float32Array(gridW * gridH);
  const plane = ph * pw;
  for (let m = 0; m < MASK_COEFFICIENTS; m++) {
    const c = coefficients[m]!;
    const base = m * plane;
    for (let gy = 0; gy < gridH; gy++) {
      const row = base + (gy + gy0) * pw + gx0;
      const out = gy * gridW;
      for (let gx = 0; gx < gridW; gx++) logits[out + gx] += c * protos[row + gx]!;
    }
  }

  // Bilinear lookup per frame pixel; sigmoid(v) > 0.5 <=> v > 0.
  const colLo = new Int32Array(width);
  const colHi = new Int32Array(width);
  const colW = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const g = clamp(toGridX(left + x) - gx0, 0, gridW - 1);
    colLo[x] = Math.floor(g);
    colHi[x] = Math.min(colLo[x]! + 1, gridW - 1);
    colW[x] = g - colLo[x]!;
  }
  for (let y = 0; y < height; y++) {
    const g = clamp(toGridY(top + y) - gy0, 0, gridH - 1);
    const r0 = Math.floor(g) * gridW;
    const r1 = Math.min(Math.floor(g) + 1, gridH - 1) * gridW;
    const wy = g - Math.floor(g);
    const out = y * width;
    for (let x = 0; x < width; x++) {
      const lo = colLo[x]!;
      const hi = colHi[x]!;
      const wx = colW[x]!;
      const upper = logits[r0 + lo]! + (logits[r0 + hi]! - logits[r0 + lo]!) * wx;
      const lower = logits[r1 + lo]! + (logits[r1 + hi]! - logits[r1 + lo]!) * wx;
      data[out + x] = upper + (lower - upper) * wy > 0 ? 1 : 0;
    }
  }
  return { x: left, y: top, width, height, data };
}
