import sharp from 'sharp';
import { z } from 'zod';
import { withSection } from '../../pipeline/frame.ts';
import { frameStage } from '../../pipeline/flow/frame-stage.ts';
import { defineOperator } from '../../pipeline/node.ts';
import { loadModelCatalog } from '../inference/model-catalog.ts';
import { drawPanoptic } from './draw-panoptic.ts';
import { segmentColorTable, type Rgb } from './segment-colors.ts';

/**
 * Overlay: the panoptic frame drawn over the video and JPEG-encoded, once per frame, for every
 * viewer to share. Labels (`car #3 0.87`) are drawn by the viewer from the segments, so they
 * stay sharp at any size.
 *
 * ```yaml
 * - { type: overlay, alpha: 0.45 }
 * ```
 */
export const overlay = defineOperator({
  type: 'overlay',
  description: 'Draws classes and instances over the video and encodes it as JPEG.',
  needs: ['panoptic'],
  adds: ['overlay'],
  options: z.object({
    alpha: z.number().min(0).max(1).default(0.45).describe('Opacity of the colours over the video'),
    contours: z.boolean().default(true).describe('Outline each thing in its colour'),
    jpegQuality: z.number().int().min(1).max(100).default(80).describe('JPEG quality of the rendered frame'),
  }),
  async create(options, ctx) {
    const catalog = await ctx.shared('model-catalog', async () => loadModelCatalog());
    const paletteOf = new Map<readonly string[], readonly Rgb[] | undefined>();
    for (const model of catalog.values()) paletteOf.set(model.classes.names, model.classes.palette);
    // One frame is drawn at a time (frameStage), so one canvas and one colour table suffice.
    let canvas = new Uint8Array(0);
    let colors: Uint8Array = new Uint8Array(0);
    let isThing = new Uint8Array(0);

    return frameStage(ctx, async (packet) => {
      const started = performance.now();
      const { frame, panoptic } = packet;
      const size = frame.width * frame.height * 3;
      if (canvas.length !== size) canvas = new Uint8Array(size);
      colors = segmentColorTable(panoptic!, paletteOf.get(panoptic!.classNames), colors);
      if (isThing.length < colors.length / 3) isThing = new Uint8Array(colors.length / 3);
      isThing.fill(0);
      for (const segment of panoptic!.segments) if (segment.isThing) isThing[segment.id] = 1;
      drawPanoptic(frame.data, panoptic!, colors, isThing, options, canvas);
      const jpeg = await sharp(canvas, { raw: { width: frame.width, height: frame.height, channels: 3 } })
        .jpeg({ quality: options.jpegQuality, optimiseCoding: false })
        .toBuffer();
      const rendered = { jpeg, width: frame.width, height: frame.height };
      return withSection(packet, 'overlay', rendered, ctx.label, performance.now() - started);
    });
  },
});
