import { z } from 'zod';
import { withSection, type CameraMotion } from '../../pipeline/frame.ts';
import { frameStage } from '../../pipeline/flow/frame-stage.ts';
import { defineOperator } from '../../pipeline/node.ts';
import { blobInstances, motionClassSet } from './blob-instances.ts';
import type { MotionOptions } from './motion-segmenter.ts';
import { MotionThread } from './motion-thread.ts';
import { ThingsPanoptic } from './things-panoptic.ts';

const NO_CAMERA_MOTION: CameraMotion = { affine: [1, 0, 0, 0, 1, 0], confidence: 0 };

const settle = z.union([
  z.strictObject({ frames: z.number().int().positive() }),
  z.strictObject({ seconds: z.number().positive() }),
]);

const motionSegmentationOptions = z.object({
  className: z.string().min(1).default('car').describe('Class of every moving blob (after an instance model: one of its class names)'),
  processWidth: z
    .number()
    .int()
    .min(32)
    .default(320)
    .describe('Width of the grey copy the work is done on; wider finds smaller things and costs more (about width squared)'),
  threshold: z.number().positive().default(20).describe('Least difference from the background, in grey levels (0..255), that is motion'),
  deviations: z
    .number()
    .min(0)
    .default(3)
    .describe("Extra threshold per grey level of a pixel's usual flicker (leaves, water, noise)"),
  adaptation: z
    .number()
    .positive()
    .default(40)
    .describe('How fast the background follows a change, in grey levels per second; lower keeps slow or stopped objects longer'),
  warmUp: settle
    .default({ seconds: 2 })
    .describe('How long a pixel is watched before motion there counts: at the start, and where camera motion brings new ground into view'),
  minArea: z.number().int().min(1).default(400).describe('Least blob area in frame pixels; smaller blobs are noise'),
  maxAreaFraction: z.number().gt(0).max(1).default(0.25).describe('Blobs larger than this fraction of the frame are not objects (a flash, a lost background)'),
  openRadius: z.number().int().min(0).default(1).describe('Specks up to about twice this size (grey pixels) are removed'),
  closeRadius: z.number().int().min(0).default(2).describe('Gaps up to about twice this size (grey pixels) inside an object are filled'),
  colour: z
    .boolean()
    .default(false)
    .describe('Also look for motion in colour (two more background models, about twice the cost): finds a car as bright as the road but of another colour'),
  compensateCamera: z
    .boolean()
    .default(true)
    .describe('Estimate camera motion and move the background with it (needed for drones and panning cameras; costs ~2 ms)'),
  minMotionConfidence: z
    .number()
    .min(0)
    .max(1)
    .default(0.4)
    .describe('Camera motion estimates that fewer of the followed corners agree with (a share) are taken as no motion'),
  jitterRadius: z
    .number()
    .int()
    .min(0)
    .max(3)
    .default(0)
    .describe('A pixel moves only if it differs from the background of every grey pixel this close: edges that shimmer by a pixel (compression, sway, parallax) stay background'),
  joinGap: z
    .number()
    .min(0)
    .default(0)
    .describe("Blobs this close (a share of the smaller one's longer side) are pieces of one thing: 0.5 holds cars of 10 and 40 pixels together (and may join two cars side by side)"),
  persistFrames: z
    .number()
    .int()
    .min(1)
    .default(1)
    .describe('Frames in a row a blob must be seen, near where it was, before it is a thing: compression noise flickers, things persist'),
  score: z.number().min(0).max(1).default(0.8).describe("Every blob's score (the tracker starts tracks at 0.6 by default)"),
  modelOverlap: z
    .number()
    .min(0)
    .max(1)
    .default(0.5)
    .describe("After an instance model: a blob this much inside a detection's box is the model's object and is dropped"),
});

/** The segmenter's options from the node's (what a config file says): `warmUp` is its `settle`. */
export function motionOptionsOf(options: z.infer<typeof motionSegmentationOptions>): MotionOptions {
  const { warmUp, className: _className, score: _score, modelOverlap: _modelOverlap, ...rest } = options;
  return { ...rest, settle: warmUp };
}

/**
 * Motion segmentation: things found by moving, without a model. For fixed cameras and hovering
 * drones watching objects no model knows (cars from straight above, far away): a background
 * model per pixel on a small grey copy of the frame, on a worker thread (motion-segmenter.ts),
 * turns what moves into blobs, and each blob into an instance of `className` with its mask.
 *
 * It writes three sections:
 * - `instances`: the blobs; after an instance model, the model's instances plus the blobs it did
 *   not find, as the model's class of that name (so fusion maps them like the model's own);
 * - `panoptic`: those instances as things over void, so tracker, analytics and overlay run with
 *   no semantic model; put panoptic-fusion after this node to have stuff classes as well;
 * - `cameraMotion`: how the camera moved since the previous frame (corners followed and a
 *   similarity fitted by RANSAC, camera-motion.ts), which the background follows and the tracker
 *   uses to move its predictions.
 *
 * ```yaml
 * - { type: motion-segmentation, className: car, minArea: 400 }
 * ```
 */
export const motionSegmentation = defineOperator({
  type: 'motion-segmentation',
  description: 'Moving things without a model: background subtraction on a grey copy, with camera motion compensated.',
  needs: [],
  adds: ['instances', 'panoptic', 'cameraMotion'],
  options: motionSegmentationOptions,
  async create(options, ctx) {
    const motionOptions = motionOptionsOf(options);
    // One thread per stream and node: the background model is the stream's own. Closed when the graph stops.
    const thread = await ctx.shared(
      `motion-segmentation:${ctx.stream}:${ctx.label}`,
      async () => {
        const started = new MotionThread(motionOptions);
        // Started while the graph is built, so the first frame does not wait for it.
        await started.ready.catch(async (err: unknown) => {
          await started.close();
          throw err;
        });
        return started;
      },
      (t) => t.close(),
    );
    const ownClasses = motionClassSet(options.className);
    const things = new ThingsPanoptic();
    // Frames go to the worker in order and come back in order; while one waits, the next can start.
    return frameStage(
      ctx,
      async (packet) => {
        const started = performance.now();
        const { frame } = packet;
        if (packet.panoptic) {
          throw new Error('motion-segmentation: the packet already has a panoptic frame; put motion-segmentation before panoptic-fusion, so fusion sees the moving things');
        }
        const result = await thread.process(frame, frame.ptsMs);
        const instances = blobInstances(result.blobs, packet.instances, ownClasses, options);
        const { panoptic, leases } = things.build(frame.width, frame.height, instances);
        const withInstances = withSection(packet, 'instances', instances, ctx.label, performance.now() - started, leases);
        // Every frame says how the camera moved: "not at all, for all we know" on a stream's first.
        const cameraMotion: CameraMotion = result.cameraMotion ?? NO_CAMERA_MOTION;
        return { ...withInstances, panoptic, cameraMotion };
      },
      { losslessConcurrency: 2 },
    );
  },
});
