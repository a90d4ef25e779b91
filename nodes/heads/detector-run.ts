/**
 * What the instance and detection nodes share: their options, the decoder for each catalog
 * layout, and one run of the model on a frame, whole or in slices (the graph sees one frame
 * either way).
 */
import { z } from 'zod';
import type { Instances } from '../../pipeline/frame.ts';
import type { ModelEntry } from '../inference/model-catalog.ts';
import type { ModelSession, OutputTensors } from '../inference/model-session.ts';
import { inputTransformFor, sliceTransform, type RgbImage } from '../inference/preprocess.ts';
import { planSlices, slicesSchema, type SliceRegion, type SlicesOptions } from '../inference/slices.ts';
import type { BoxDecodeOptions } from './box-detections.ts';
import { mergeSliceDetections } from './greedy-merge.ts';
import { decodeNanodet } from './nanodet.ts';
import { decodeYolo, type YoloSegGeometry } from './yolo-seg.ts';
import { decodeYolox } from './yolox.ts';

/** Options of every node that runs a detector (with or without masks). */
export const detectorOptions = z.object({
  minScore: z
    .number()
    .min(0)
    .max(1)
    .default(0.3)
    .describe('Detections below this score are ignored; lower finds more, with more false positives'),
  iouThreshold: z
    .number()
    .min(0)
    .max(1)
    .default(0.5)
    .describe('Boxes of one class overlapping more than this are one object (non-maximum suppression)'),
  maxDetections: z.number().int().positive().default(100).describe('At most this many instances per frame'),
  classes: z
    .array(z.string())
    .optional()
    .describe('Only these classes of the model (e.g. [person, car]); all when omitted'),
  slices: slicesSchema
    .optional()
    .describe('Run the model on overlapping slices of the frame (small, far objects), merged into one set of instances'),
});

export type DetectorOptions = z.infer<typeof detectorOptions>;

/** Reads one run's outputs into instances in frame pixels. */
export type Decode = (outputs: OutputTensors, geometry: YoloSegGeometry) => Instances;

/** The decoder for the entry's layout, with the node's score, NMS and class options. */
export function decoderFor(entry: ModelEntry, options: BoxDecodeOptions): Decode {
  const tensor = (outputs: OutputTensors, name: string) => {
    const found = outputs[name];
    if (!found) throw new Error(`model ${entry.id}: output ${name} missing`);
    return found;
  };
  switch (entry.decoder) {
    case 'yolo-seg':
    case 'yolo-detect':
      return (outputs, geometry) => {
        const predictions = tensor(outputs, entry.outputs[0]!);
        const prototypes = entry.decoder === 'yolo-seg' ? tensor(outputs, entry.outputs[1]!) : undefined;
        return decodeYolo(
          entry.id,
          entry.classes,
          {
            predictions: predictions.data as Float32Array,
            predictionDims: predictions.dims,
            ...(prototypes ? { prototypes: prototypes.data as Float32Array, prototypeDims: prototypes.dims } : {}),
          },
          geometry,
          options,
        );
      };
    case 'yolox':
      return (outputs, geometry) => {
        const output = tensor(outputs, entry.outputs[0]!);
        return decodeYolox(entry.id, entry.classes, { data: output.data as Float32Array, dims: output.dims }, geometry, options);
      };
    case 'nanodet':
      return (outputs, geometry) => decodeNanodet(entry.id, entry.classes, entry.outputs.map((name) => tensor(outputs, name)), geometry, options);
    case 'semantic-labels':
    case 'density':
      throw new Error(`model ${entry.id} is a ${entry.decoder} model, not a detector`);
  }
}

/** The keep-class test for the node's `classes` option, checked against the model's classes. */
export function classFilter(node: string, entry: ModelEntry, classes: readonly string[] | undefined): ((classId: number) => boolean) | undefined {
  if (!classes) return undefined;
  const names = entry.classes.names;
  const unknown = classes.filter((c) => !names.includes(c));
  if (unknown.length) {
    throw new Error(`${node}: classes ${unknown.join(', ')} are not classes of ${entry.id} (it has ${names.join(', ')})`);
  }
  const wanted = new Set(classes.map((c) => names.indexOf(c)));
  return (classId) => wanted.has(classId);
}

export interface DetectorResult {
  readonly instances: Instances;
  /** The slices run, in frame pixels (absent without slices). */
  readonly slices?: readonly SliceRegion[];
  /** Milliseconds of each model run on its thread (one per slice, or one batch). */
  readonly runMs?: readonly number[];
  /** Milliseconds spent decoding the slices' outputs (boxes and masks), on the node's thread. */
  readonly decodeMs?: number;
  /** Milliseconds spent merging the slices' instances into one set. */
  readonly mergeMs?: number;
}

/**
 * Runs the model on a frame: whole, or (with `slices`) on every slice as one unit on the model's
 * thread, each slice decoded in frame pixels and all of them merged (greedy-merge.ts).
 */
export function createDetectorRun(
  session: ModelSession,
  decode: Decode,
  slices: SlicesOptions | undefined,
  maxDetections: number,
): (frame: RgbImage, priority?: number) => Promise<DetectorResult> {
  const { entry } = session;
  const base = { inputWidth: entry.input.width, inputHeight: entry.input.height, boxUnits: entry.boxUnits };
  let layout: { key: string; regions: SliceRegion[] } | undefined;
  return async (frame, priority) => {
    const frameSize = { frameWidth: frame.width, frameHeight: frame.height };
    if (!slices) {
      const outputs = await session.runImage(frame, priority);
      const transform = inputTransformFor(entry.input, frame.width, frame.height);
      return { instances: decode(outputs, { ...base, ...frameSize, transform }) };
    }
    const key = `${frame.width}x${frame.height}`;
    if (layout?.key !== key) layout = { key, regions: planSlices(frame.width, frame.height, slices) };
    const { regions } = layout;
    const { slices: outputs, runMs } = await session.runSlices(frame, regions, priority);
    const started = performance.now();
    const parts = outputs.map((out, i) =>
      decode(out, { ...base, ...frameSize, transform: sliceTransform(entry.input, regions[i]!), region: regions[i]! }),
    );
    const decoded = performance.now();
    const instances = mergeSliceDetections(
      parts.map((part, i) => ({ instances: part, region: regions[i]! })),
      frame.width,
      frame.height,
      slices.mergeThreshold,
      maxDetections,
    );
    return { instances, slices: regions, runMs, decodeMs: decoded - started, mergeMs: performance.now() - decoded };
  };
}
