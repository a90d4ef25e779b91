/**
 * Decodes NanoDet's outputs (PROVENANCE.md model 7): per stride 8, 16 and 32, class scores
 * `[1, cells, classes]` (sigmoid already) and box distances `[1, cells, 4 x 8]`: for each side
 * (left, top, right, bottom) a distribution over 8 bins whose expectation, times the stride, is
 * the distance from the cell's centre to that side.
 */
import type { ClassSet, Instances } from '../../pipeline/frame.ts';
import type { OutputTensor } from '../inference/inference-protocol.ts';
import { BoxCandidates, bestClass, finishBoxDetections, type BoxDecodeOptions, type DecodeGeometry } from './box-detections.ts';

const STRIDES = [8, 16, 32] as const;
const BINS = 8;

/** Expected bin of the softmax over `bins[at..at+8]`. */
function expectedDistance(bins: Float32Array, at: number): number {
  let max = -Infinity;
  for (let i = 0; i < BINS; i++) if (bins[at + i]! > max) max = bins[at + i]!;
  let sum = 0;
  let weighted = 0;
  for (let i = 0; i < BINS; i++) {
    const e = Math.exp(bins[at + i]! - max);
    sum += e;
    weighted += e * i;
  }
  return weighted / sum;
}

/**
 * @param outputs the catalog's outputs in its order: cls_pred_stride_8, _16, _32, then
 *   dis_pred_stride_8, _16, _32.
 */
export function decodeNanodet(
  model: string,
  classes: ClassSet,
  outputs: readonly OutputTensor[],
  geometry: DecodeGeometry,
  options: BoxDecodeOptions,
): Instances {
  const candidates = new BoxCandidates();
  const best = new Float32Array(1);
  STRIDES.forEach((stride, level) => {
    const scores = outputs[level]!;
    const distances = outputs[level + STRIDES.length]!;
    const [, cells, classCount] = scores.dims as [number, number, number];
    if (classCount !== classes.names.length) {
      throw new Error(`${model}: scores at stride ${stride} have ${classCount} classes, the catalog lists ${classes.names.length}`);
    }
    const gridW = Math.ceil(geometry.inputWidth / stride);
    if (cells !== gridW * Math.ceil(geometry.inputHeight / stride) || distances.dims[2] !== 4 * BINS) {
      throw new Error(`${model}: outputs at stride ${stride} do not fit a ${geometry.inputWidth}x${geometry.inputHeight} NanoDet input`);
    }
    const s = scores.data as Float32Array;
    const d = distances.data as Float32Array;
    for (let cell = 0; cell < cells; cell++) {
      const classId = bestClass(s, cell * classCount, classCount, 1, options, best);
      if (classId < 0) continue;
      const cx = (cell % gridW) * stride + (stride - 1) / 2;
      const cy = Math.floor(cell / gridW) * stride + (stride - 1) / 2;
      const at = cell * 4 * BINS;
      const left = expectedDistance(d, at) * stride;
      const top = expectedDistance(d, at + BINS) * stride;
      const right = expectedDistance(d, at + 2 * BINS) * stride;
      const bottom = expectedDistance(d, at + 3 * BINS) * stride;
      candidates.add(cx - left, cy - top, cx + right, cy + bottom, best[0]!, classId);
    }
  });
  return finishBoxDetections(model, classes, candidates, geometry, options);
}
