/**
 * Decodes YOLOX's output (`[1, anchors, 5 + classes]`, PROVENANCE.md model 5): per anchor of the
 * stride 8, 16 and 32 grids in row-major order, the box offsets (o0, o1: centre in cells; o2,
 * o3: log size in cells), the objectness and the class probabilities, both already sigmoid.
 * Score = objectness x class probability.
 */
import type { ClassSet, Instances } from '../../pipeline/frame.ts';
import { BoxCandidates, bestClass, finishBoxDetections, type BoxDecodeOptions, type DecodeGeometry } from './box-detections.ts';

const STRIDES = [8, 16, 32] as const;

export function decodeYolox(
  model: string,
  classes: ClassSet,
  output: { readonly data: Float32Array; readonly dims: readonly number[] },
  geometry: DecodeGeometry,
  options: BoxDecodeOptions,
): Instances {
  const [, anchors, channels] = output.dims as [number, number, number];
  const classCount = channels - 5;
  if (classCount !== classes.names.length) {
    throw new Error(`${model}: output has ${classCount} class columns, the catalog lists ${classes.names.length} classes`);
  }
  const expected = STRIDES.reduce((n, s) => n + (geometry.inputWidth / s) * (geometry.inputHeight / s), 0);
  if (anchors !== expected) {
    throw new Error(`${model}: output has ${anchors} anchors, a ${geometry.inputWidth}x${geometry.inputHeight} YOLOX input has ${expected}`);
  }
  const p = output.data;
  const candidates = new BoxCandidates();
  const best = new Float32Array(1);
  let a = 0;
  for (const stride of STRIDES) {
    const gridW = geometry.inputWidth / stride;
    const gridH = geometry.inputHeight / stride;
    for (let gy = 0; gy < gridH; gy++) {
      for (let gx = 0; gx < gridW; gx++, a++) {
        const row = a * channels;
        const objectness = p[row + 4]!;
        // No class can pass when the objectness alone does not.
        if (objectness < options.minScore) continue;
        const classId = bestClass(p, row + 5, classCount, objectness, options, best);
        if (classId < 0) continue;
        const cx = (p[row]! + gx) * stride;
        const cy = (p[row + 1]! + gy) * stride;
        const w = Math.exp(p[row + 2]!) * stride;
        const h = Math.exp(p[row + 3]!) * stride;
        candidates.add(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, best[0]!, classId);
      }
    }
  }
  return finishBoxDetections(model, classes, candidates, geometry, options);
}
