import { z } from 'zod';
import { withSection } from '../../pipeline/frame.ts';
import { frameStage } from '../../pipeline/flow/frame-stage.ts';
import { defineOperator } from '../../pipeline/node.ts';
import { openModel } from '../inference/open-model.ts';
import { classFilter, createDetectorRun, decoderFor, detectorOptions } from './detector-run.ts';

/**
 * Instance segmentation: runs a `yolo-seg` model and decodes boxes, scores, classes and masks in
 * frame pixels; on the whole frame, or on overlapping slices merged into one set.
 *
 * ```yaml
 * - { type: instance-segmentation, model: yolov8n-seg-320, minScore: 0.3 }
 * - { type: instance-segmentation, model: yolov8n-seg-640, slices: { grid: [2, 3], overlap: 0.2 } }
 * ```
 */
export const instanceSegmentation = defineOperator({
  type: 'instance-segmentation',
  description: 'Countable things (cars, people...) with a mask each, from a YOLOv8-seg model.',
  needs: [],
  adds: ['instances'],
  options: detectorOptions.extend({
    model: z.string().describe('Catalog id of a yolo-seg model, e.g. yolov8n-seg-320 or yolov8n-seg-640'),
  }),
  async create(options, ctx) {
    const session = await openModel(ctx, options.model, 'yolo-seg');
    const keepClass = classFilter('instance-segmentation', session.entry, options.classes);
    const detect = createDetectorRun(session, decoderFor(session.entry, { ...options, keepClass }), options.slices, options.maxDetections);
    return frameStage(ctx, async (packet) => {
      const started = performance.now();
      const { instances } = await detect(packet.frame, ctx.position);
      return withSection(packet, 'instances', instances, ctx.label, performance.now() - started);
    });
  },
});
