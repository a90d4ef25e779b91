import sharp from 'sharp';
import { z } from 'zod';
import { withSection } from '../../pipeline/frame.ts';
import { frameStage } from '../../pipeline/flow/frame-stage.ts';
import { defineOperator } from '../../pipeline/node.ts';
import { thingCounts } from '../analytics/thing-counts.ts';
import { regionPixels } from '../heads/crowd-density.ts';
import { zoneDensities } from '../analytics/zone-density.ts';
import { drawHeatmap, drawLabels, drawLinesAndZones, drawPanel, drawTrails } from './annotate.ts';
import { drawPanoptic } from './draw-panoptic.ts';
import { segmentColorTable } from './segment-colors.ts';

/**
 * Overlay: the panoptic frame drawn over the video (class colours, a shade per instance,
 * outlines), then labels, trails, counting lines and zones, the crowd heatmap and a stats panel
 * (annotate.ts), JPEG-encoded once per frame for every viewer, Foxglove client and recording.
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
  // Its JPEG is the picture every viewer, recording and clip shows: a pixel edit after it is lost.
  copies: ['frame'],
  options: z.object({
    alpha: z.number().min(0).max(1).default(0.45).describe('Opacity of the colours over the video'),
    contours: z.boolean().default(true).describe('Outline each thing in its colour'),
    labels: z.boolean().default(true).describe('Label each thing: class, track id, score'),
    trails: z.number().int().min(0).default(20).describe("Last positions of each track's trail drawn (the tracker keeps the trail); 0 for none"),
    panel: z.boolean().default(true).describe('Corner panel with fps, latency, drops and counts'),
    heatmap: z.boolean().default(true).describe('Show the crowd heatmap when analytics keep one, and the density map when crowd-density runs'),
    jpegQuality: z.number().int().min(1).max(100).default(80).describe('JPEG quality of the rendered frame'),
  }),
  async create(options, ctx) {
    // One frame is drawn at a time (frameStage), so one canvas and one colour table suffice.
    let canvas = new Uint8Array(0);
    let colors: Uint8Array = new Uint8Array(0);
    let isThing = new Uint8Array(0);

    return frameStage(ctx, async (packet) => {
      const started = performance.now();
      const { frame, panoptic } = packet;
      const size = frame.width * frame.height * 3;
      if (canvas.length !== size) canvas = new Uint8Array(size);
      const palette = panoptic!.classes.palette;
      colors = segmentColorTable(panoptic!, palette, colors);
      if (isThing.length < colors.length / 3) isThing = new Uint8Array(colors.length / 3);
      isThing.fill(0);
      for (const segment of panoptic!.segments) if (segment.isThing) isThing[segment.id] = 1;
      drawPanoptic(frame.data, panoptic!, colors, isThing, options, canvas);
      const image = { data: canvas, width: frame.width, height: frame.height };
      const { analytics, tracks } = packet;
      if (options.heatmap && analytics?.crowd.heatmap) drawHeatmap(image, analytics.crowd.heatmap);
      const { density } = packet;
      if (options.heatmap && density) {
        const area = regionPixels(density.region, frame.width, frame.height);
        drawHeatmap(image, { width: density.width, height: density.height, data: density.map }, 0.5, area);
      }
      if (tracks && options.trails > 0) drawTrails(image, tracks, options.trails, palette);
      const totals = analytics
        ? drawLinesAndZones(image, analytics, density && analytics.zones.length ? zoneDensities(density, analytics.zones) : undefined)
        : [];
      if (options.labels) drawLabels(image, panoptic!, palette, totals);
      if (options.panel) {
        const stats = ctx.metrics.snapshot().find((s) => s.stream === frame.stream);
        drawPanel(image, stats, analytics?.counts ?? thingCounts(panoptic!.segments), packet.density);
      }
      const jpeg = await sharp(canvas, { raw: { width: frame.width, height: frame.height, channels: 3 } })
        .jpeg({ quality: options.jpegQuality, optimiseCoding: false })
        .toBuffer();
      const rendered = { jpeg, width: frame.width, height: frame.height };
      return withSection(packet, 'overlay', rendered, ctx.label, performance.now() - started);
    });
  },
});
