import { z } from 'zod';
import type { Box } from '../../lib/geometry/box.ts';
import { ConfigError } from '../../pipeline/config/validation.ts';
import { withSection, type DensityEstimate, type Frame } from '../../pipeline/frame.ts';
import { frameStage } from '../../pipeline/flow/frame-stage.ts';
import { defineOperator } from '../../pipeline/node.ts';
import type { InputSize, OutputTensor } from '../inference/inference-protocol.ts';
import { openModel } from '../inference/open-model.ts';
import type { RgbImage } from '../inference/preprocess.ts';

/**
 * Crowd density: a crowd-counting model (MCNN) regresses a density map whose sum is the number of
 * people, where they stand too close for a detector's boxes. The model is slow at full HD on a
 * CPU (about 0.5 s at 960x540), so it runs every `everyFrames` frames or `everyMs` of stream time,
 * on a `region` of the frame, at `inputWidth`; between runs the last estimate is carried with its
 * age. Its counts are rough and depend on the camera (people's size in pixels): `scale` is the
 * per-camera calibration factor, count = scale * sum of the map (docs/configs.md, "Crowd density").
 * Every estimate carries its expected error band, `low`..`high` = count * (1 -/+ expectedError),
 * computed here once per run: the model's figure in models/catalog.yaml, or the node's own.
 *
 * On a live stream the run does not hold the chain: it works on a copy of the frame on the model's
 * thread while later frames go on with the previous estimate. On a lossless stream the frame that
 * triggers a run waits for it, so every run's frame carries its own estimate (age 0).
 *
 * ```yaml
 * - { type: crowd-density, model: mcnn-shanghaitech-a, everyFrames: 15, inputWidth: 960, scale: 1.5 }
 * ```
 */
export const crowdDensity = defineOperator({
  type: 'crowd-density',
  description: 'Crowd count and density map from a crowd-counting model (MCNN), every N frames or ms.',
  needs: [],
  adds: ['density'],
  options: z.object({
    model: z.string().default('mcnn-shanghaitech-a').describe('Catalog id of a density model: mcnn-shanghaitech-a (dense crowds) or -b (streets)'),
    inputWidth: z
      .number()
      .int()
      .min(16)
      .default(960)
      .describe('Width the region is resized to for the model (rounded to a multiple of 4; height keeps the aspect ratio). Larger counts small heads better, at a quadratic cost'),
    everyFrames: z.number().int().positive().optional().describe('Run on every Nth frame (by seq); every frame when neither this nor everyMs is given'),
    everyMs: z.number().positive().optional().describe('Run when this many ms of stream time have passed since the last run'),
    region: z
      .tuple([z.number().min(0).max(1), z.number().min(0).max(1), z.number().min(0).max(1), z.number().min(0).max(1)])
      .default([0, 0, 1, 1])
      .describe('Part of the frame to count, normalized [x1, y1, x2, y2]'),
    scale: z.number().positive().default(1).describe("Per-camera calibration: count = scale * the model's sum"),
    expectedError: z
      .number()
      .gt(0)
      .lt(1)
      .optional()
      .describe(
        "Expected error of the count as a fraction of it (0.26: the true count is likely within 26%), shown as a band around it; the model's figure in models/catalog.yaml when left out. Measure it on annotated frames of this camera",
      ),
  }),
  async create(options, ctx) {
    const [x1, y1, x2, y2] = options.region;
    if (!(x1 < x2 && y1 < y2)) {
      throw new ConfigError(`crowd-density: region [${options.region.join(', ')}] is empty: give [x1, y1, x2, y2] with x1 < x2 and y1 < y2 (0..1)`);
    }
    if (options.everyFrames !== undefined && options.everyMs !== undefined) {
      throw new ConfigError('crowd-density: give everyFrames or everyMs, not both');
    }
    const session = await openModel(ctx, options.model, 'density');
    const { entry } = session;
    const expectedError = options.expectedError ?? entry.expectedError;
    if (expectedError === undefined) {
      throw new ConfigError(
        `crowd-density: model "${entry.id}" has no expectedError in models/catalog.yaml: add one (its published or measured error, a fraction of the count) or set the node's expectedError`,
      );
    }
    const [densityName] = entry.outputs;
    const schedule = new DensitySchedule(options.everyMs === undefined ? { frames: options.everyFrames ?? 1 } : { ms: options.everyMs });
    let latest: { readonly estimate: DensityEstimate; readonly ptsMs: number } | undefined;
    let running: Promise<void> | undefined;

    /** Runs the model on `frame` (which must stay unchanged until this settles) and keeps the result. */
    const estimate = async (frame: Frame, image: RgbImage, size: InputSize): Promise<void> => {
      const outputs = await session.runImage(image, ctx.position, size);
      latest = { estimate: densityEstimate(entry.id, outputs[densityName!]!, options.scale, expectedError, options.region, frame.seq), ptsMs: frame.ptsMs };
    };

    return frameStage(ctx, async (packet) => {
      const started = performance.now();
      const { frame } = packet;
      if (!running && schedule.due(frame.seq, frame.ptsMs)) {
        schedule.ran(frame.seq, frame.ptsMs);
        const area = regionPixels(options.region, frame.width, frame.height);
        const size = modelInputSize(area, options.inputWidth);
        const whole = area[0] === 0 && area[1] === 0 && area[2] === frame.width && area[3] === frame.height;
        if (ctx.lossless) {
          await estimate(frame, whole ? frame : cropRgb(frame, area), size);
        } else {
          // The frame's buffer goes back to its pool when this packet leaves: the run gets a copy.
          running = estimate(frame, cropRgb(frame, area), size)
            .catch((err: unknown) => {
              if (ctx.signal.aborted) return;
              ctx.metrics.error(ctx.stream);
              ctx.log.error(`crowd density on frame ${frame.seq} failed: ${err instanceof Error ? err.message : String(err)}`);
            })
            .finally(() => {
              running = undefined;
            });
        }
      }
      if (!latest) return packet;
      const density = { ...latest.estimate, ageMs: frame.ptsMs - latest.ptsMs };
      return withSection(packet, 'density', density, ctx.label, performance.now() - started);
    });
  },
});

/**
 * When to run: on the first frame, then once `frames` frames (by seq, so dropped frames count) or
 * `ms` of stream time have passed since the last run.
 */
export class DensitySchedule {
  private last: { readonly seq: number; readonly ptsMs: number } | undefined;

  constructor(private readonly every: { readonly frames?: number; readonly ms?: number }) {}

  due(seq: number, ptsMs: number): boolean {
    if (!this.last) return true;
    const { frames, ms } = this.every;
    return (frames !== undefined && seq - this.last.seq >= frames) || (ms !== undefined && ptsMs - this.last.ptsMs >= ms);
  }

  ran(seq: number, ptsMs: number): void {
    this.last = { seq, ptsMs };
  }
}

/** The normalized region in whole frame pixels, at least one pixel each way. */
export function regionPixels(region: Box, width: number, height: number): Box {
  const x1 = Math.min(Math.floor(region[0] * width), width - 1);
  const y1 = Math.min(Math.floor(region[1] * height), height - 1);
  return [x1, y1, Math.max(Math.ceil(region[2] * width), x1 + 1), Math.max(Math.ceil(region[3] * height), y1 + 1)];
}

/**
 * The model's input size for a region of `area` pixels: `inputWidth` and the region's aspect
 * ratio, both multiples of 4 (the model pools twice by 2; its training code crops to that too).
 */
export function modelInputSize(area: Box, inputWidth: number): InputSize {
  const toFour = (v: number) => Math.max(4, Math.round(v / 4) * 4);
  const width = toFour(inputWidth);
  return { width, height: toFour((width * (area[3] - area[1])) / (area[2] - area[0])) };
}

/** A copy of the `area` of an RGB frame. */
export function cropRgb(image: RgbImage, area: Box): RgbImage {
  const [x1, y1, x2, y2] = area;
  const width = x2 - x1;
  const height = y2 - y1;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const from = ((y1 + y) * image.width + x1) * 3;
    data.set(image.data.subarray(from, from + width * 3), y * width * 3);
  }
  return { width, height, data };
}

/**
 * The estimate of one run: the count is `scale` times the map's sum (PROVENANCE.md: no other
 * scaling), with its band.
 */
export function densityEstimate(
  model: string,
  output: OutputTensor,
  scale: number,
  expectedError: number,
  region: Box,
  seq: number,
): DensityEstimate {
  const [, , height, width] = output.dims as [number, number, number, number];
  const map = output.data as Float32Array;
  let sum = 0;
  for (const v of map) sum += v;
  const count = scale * sum;
  return { model, count, scale, expectedError, ...densityBand(count, expectedError), map, width, height, region, seq, ageMs: 0 };
}

/** The people a count of `count` may really be, given its expected relative error. */
export function densityBand(count: number, expectedError: number): { readonly low: number; readonly high: number } {
  return { low: count * (1 - expectedError), high: count * (1 + expectedError) };
}
