import { z } from 'zod';
import { withSection } from '../../pipeline/frame.ts';
import { frameStage } from '../../pipeline/flow/frame-stage.ts';
import { defineOperator } from '../../pipeline/node.ts';
import { openModel } from '../inference/open-model.ts';
import { inputTransformFor } from '../inference/preprocess.ts';
import { decodeYoloSeg } from './yolo-seg.ts';

/**
 * Instance segmentation: runs a `yolo-seg` model and decodes boxes, scores, classes and masks in
 * frame pixels.
 *
 * ```yaml
 * - { type: instance-segmentation, model: yolov8n-seg-320, minScore: 0.3 }
 * ```
 */
export const instanceSegmentation = defineOperator({
  type: 'instance-segmentation',
  description: 'Countable things (cars, people...) with a mask each, from a YOLOv8-seg model.',
  needs: [],
  adds: ['instances'],
  options: z.object({
    model: z.string().describe('Catalog id of a yolo-seg model, e.g. yolov8n-seg-320'),
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
  }),
  async create(options, ctx) {
    const session = await openModel(ctx, options.model, 'yolo-seg');
    const { entry } = session;
    const classNames = entry.classes.names;
    let keepClass: ((classId: number) => boolean) | undefined;
    if (options.classes) {
      const unknown = options.classes.filter((c) => !classNames.includes(c));
      if (unknown.length) {
        throw new Error(`instance-segmentation: classes ${unknown.join(', ')} are not classes of ${entry.id}`);
      }
      const wanted = new Set(options.classes.map((c) => classNames.indexOf(c)));
      keepClass = (classId) => wanted.has(classId);
    }
    const [predictionsName, prototypesName] = entry.outputs;
    return frameStage(ctx, async (packet) => {
      const started = performance.now();
      const { frame } = packet;
      const outputs = await session.runImage(frame, ctx.position);
      const transform = inputTransformFor(entry.input, frame.width, frame.height);
      const predictions = outputs[predictionsName!]!;
      const prototypes = outputs[prototypesName!]!;
      const instances = decodeYoloSeg(
        entry.id,
        entry.classes,
        {
          predictions: predictions.data as Float32Array,
          predictionDims: predictions.dims,
          prototypes: prototypes.data as Float32Array,
          prototypeDims: prototypes.dims,
        },
        {
          inputWidth: entry.input.width,
          inputHeight: entry.input.height,
          frameWidth: frame.width,
          frameHeight: frame.height,
          transform,
        },
        { ...options, keepClass },
      );
      return withSection(packet, 'instances', instances, ctx.label, performance.now() - started);
    });
  },
});
