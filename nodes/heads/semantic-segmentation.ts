import { z } from 'zod';
import { withSection } from '../../pipeline/frame.ts';
import { frameStage } from '../../pipeline/flow/frame-stage.ts';
import { defineOperator } from '../../pipeline/node.ts';
import { openModel } from '../inference/open-model.ts';

/**
 * Semantic segmentation: runs a `semantic-labels` model (ESPNet, ESPNetv2) and keeps its argmax
 * label map at the model's resolution. Fusion scales it to the frame; nothing is upsampled here.
 *
 * ```yaml
 * - { type: semantic-segmentation, model: espnetv2-s1.5 }   # road, sky, buildings... per pixel
 * ```
 */
export const semanticSegmentation = defineOperator({
  type: 'semantic-segmentation',
  description: 'Per-pixel classes from a semantic segmentation model (stuff and things).',
  needs: [],
  adds: ['semantic'],
  options: z.object({
    model: z.string().describe('Catalog id of a semantic-labels model, e.g. espnetv2-s1.5'),
  }),
  async create(options, ctx) {
    const session = await openModel(ctx, options.model, 'semantic-labels');
    const { entry } = session;
    const [labelsName] = entry.outputs;
    return frameStage(ctx, async (packet) => {
      const started = performance.now();
      const outputs = await session.runImage(packet.frame, ctx.position);
      const labels = outputs[labelsName!]!;
      const [, height, width] = labels.dims as [number, number, number];
      const semantic = {
        model: entry.id,
        width,
        height,
        labels: labels.data as Uint8Array,
        classes: entry.classes,
      };
      return withSection(packet, 'semantic', semantic, ctx.label, performance.now() - started);
    });
  },
});
