import { z } from 'zod';
import { withSection } from '../../pipeline/frame.ts';
import { frameStage } from '../../pipeline/flow/frame-stage.ts';
import { defineOperator } from '../../pipeline/node.ts';
import { openModel } from '../inference/open-model.ts';
import { classFilter, createDetectorRun, decoderFor, detectorOptions } from './detector-run.ts';

/**
 * Object detection: boxes, scores and classes from a box-only detector (the YOLOv8/11 detect
 * head, YOLOX, NanoDet); on the whole frame, or on overlapping slices merged into one set. The
 * instances have no masks: panoptic fusion gives each one the semantic model's pixels of its
 * class inside its box, or the box (see nodes/fusion/detection-masks.ts).
 *
 * ```yaml
 * - { type: object-detection, model: yolov8n-640, classes: [person], slices: { grid: [2, 3] } }
 * ```
 */
export const objectDetection = defineOperator({
  type: 'object-detection',
  description: 'Countable things as boxes, from a detection-only model (YOLOv8 detect, YOLOX, NanoDet).',
  needs: [],
  adds: ['instances'],
  options: detectorOptions.extend({
    model: z.string().describe('Catalog id of a detector, e.g. yolov8n-640, yolox-nano-416, nanodet-m-320'),
  }),
  async create(options, ctx) {
    const session = await openModel(ctx, options.model, ['yolo-detect', 'yolox', 'nanodet']);
    const keepClass = classFilter('object-detection', session.entry, options.classes);
    const detect = createDetectorRun(session, decoderFor(session.entry, { ...options, keepClass }), options.slices, options.maxDetections);
    return frameStage(ctx, async (packet) => {
      const started = performance.now();
      const { instances } = await detect(packet.frame, ctx.position);
      return withSection(packet, 'instances', instances, ctx.label, performance.now() - started);
    });
  },
});
