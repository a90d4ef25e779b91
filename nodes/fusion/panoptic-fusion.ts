import { z } from 'zod';
import { BufferPool } from '../../pipeline/buffer-pool.ts';
import { withSection, type ClassSet, type Lease, type PanopticFrame } from '../../pipeline/frame.ts';
import { frameStage } from '../../pipeline/flow/frame-stage.ts';
import { defineOperator } from '../../pipeline/node.ts';
import { fusePanoptic, LabelScaler, MIN_SEMANTIC_FRACTION, type FusionClasses } from './fuse-panoptic.ts';

/** COCO's thing classes as Cityscapes names them; COCO has no rider (see fuse-panoptic.ts). */
const COCO_TO_CITYSCAPES: Record<string, string> = {
  person: 'person',
  bicycle: 'bicycle',
  car: 'car',
  motorbike: 'motorcycle',
  bus: 'bus',
  train: 'train',
  truck: 'truck',
};

/** Label maps alive at once per stream: in flight downstream plus the one being filled. */
const MAP_POOL_SIZE = 6;

/**
 * Panoptic fusion: semantic classes plus instance masks into one panoptic frame at the frame's
 * resolution (rules in fuse-panoptic.ts). Instances without masks (object-detection) get theirs
 * from the semantic model's pixels inside their boxes, or the boxes (detection-masks.ts).
 *
 * ```yaml
 * - { type: panoptic-fusion, minArea: 64 }
 * ```
 */
export const panopticFusion = defineOperator({
  type: 'panoptic-fusion',
  description: 'One class and one segment per pixel: things over stuff, higher score over lower.',
  needs: ['semantic'],
  adds: ['panoptic'],
  options: z.object({
    minArea: z
      .number()
      .int()
      .min(0)
      .default(64)
      .describe('Segments (things and stuff) owning fewer pixels than this are dropped to void'),
    minVisibleFraction: z
      .number()
      .min(0)
      .max(1)
      .default(0.5)
      .describe('An instance hidden behind higher-scoring ones beyond this fraction of its mask is dropped'),
    minSemanticFraction: z
      .number()
      .min(0)
      .max(1)
      .default(MIN_SEMANTIC_FRACTION)
      .describe(
        'Box-only detections (object-detection): the semantic pixels of their class inside the box are the mask when they fill at least this fraction of it; else the box is',
      ),
    thingClasses: z
      .record(z.string(), z.string())
      .default(COCO_TO_CITYSCAPES)
      .describe('Instance class → panoptic (semantic) class; instance classes not listed are ignored'),
  }),
  async create(options, ctx) {
    const scaler = new LabelScaler();
    let pools: { size: number; classMaps: BufferPool<Uint8Array>; segmentMaps: BufferPool<Uint32Array> } | undefined;
    let classes: { semantic: ClassSet; instance: ClassSet | undefined; value: FusionClasses } | undefined;
    let warnedPoolEmpty = false;

    // The heads' class sets come with their sections; the mapping is worked out once per pair.
    const classesFor = (set: ClassSet, instanceSet: ClassSet | undefined): FusionClasses => {
      if (classes?.semantic === set && classes.instance === instanceSet) return classes.value;
      const instanceToPanoptic = Int32Array.from(instanceSet?.names ?? [], (name) => {
        const target = options.thingClasses[name];
        if (target === undefined) return -1;
        const index = set.names.indexOf(target);
        if (index < 0 || !set.isThing[index]) {
          throw new Error(
            `panoptic-fusion: thingClasses maps "${name}" to "${target}", which is not a thing class of ${set.name} (${set.names.filter((_, i) => set.isThing[i]).join(', ')})`,
          );
        }
        return index;
      });
      const value: FusionClasses = {
        ...set,
        instanceToPanoptic,
        person: set.names.indexOf('person'),
        rider: set.names.indexOf('rider'),
        ridden: ['bicycle', 'motorcycle'].map((name) => set.names.indexOf(name)).filter((index) => index >= 0),
      };
      classes = { semantic: set, instance: instanceSet, value };
      return value;
    };

    const acquireMaps = (size: number): { classMap: Uint8Array; segmentMap: Uint32Array; leases: Lease[] } => {
      if (pools?.size !== size) {
        pools = {
          size,
          classMaps: new BufferPool(() => new Uint8Array(size), MAP_POOL_SIZE),
          segmentMaps: new BufferPool(() => new Uint32Array(size), MAP_POOL_SIZE),
        };
      }
      const classMap = pools.classMaps.acquire();
      const segmentMap = pools.segmentMaps.acquire();
      if (classMap && segmentMap) {
        return { classMap: classMap.buffer, segmentMap: segmentMap.buffer, leases: [classMap.release, segmentMap.release] };
      }
      // More packets alive than the pool expects (a sink holding on?): stay correct, just slower.
      classMap?.release();
      segmentMap?.release();
      if (!warnedPoolEmpty) {
        warnedPoolEmpty = true;
        ctx.log.warn(`more than ${MAP_POOL_SIZE} panoptic frames alive at once; allocating extra label maps`);
      }
      return { classMap: new Uint8Array(size), segmentMap: new Uint32Array(size), leases: [] };
    };

    return frameStage(ctx, (packet) => {
      const started = performance.now();
      const { frame, semantic, instances } = packet;
      const fusionClasses = classesFor(semantic!.classes, instances?.classes);
      const { classMap, segmentMap, leases } = acquireMaps(frame.width * frame.height);
      const { segments } = fusePanoptic(
        frame.width,
        frame.height,
        semantic!,
        instances,
        fusionClasses,
        options,
        { classMap, segmentMap },
        scaler,
      );
      const panoptic: PanopticFrame = {
        width: frame.width,
        height: frame.height,
        classMap,
        segmentMap,
        segments,
        classes: semantic!.classes,
      };
      return withSection(packet, 'panoptic', panoptic, ctx.label, performance.now() - started, leases);
    });
  },
});
