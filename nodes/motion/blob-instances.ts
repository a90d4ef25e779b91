/**
 * Moving blobs as instances: alone, a class set of their own naming one class (`car`); after an
 * instance model, added to its instances as that model's class of the same name, except where
 * the model already found the object (its mask is better than a blob's).
 */
import type { ClassSet, Instances } from '../../pipeline/frame.ts';
import type { MotionBlob } from './motion-segmenter.ts';

export interface BlobInstanceOptions {
  readonly className: string;
  /** The score every blob gets. */
  readonly score: number;
  /** A blob is the model's object when this fraction of its box lies in a model instance's box. */
  readonly modelOverlap: number;
}

/** The class set of blobs without a model: one thing class. */
export function motionClassSet(className: string): ClassSet {
  return { name: 'motion', names: [className], isThing: [true], isVoid: [false], palette: undefined };
}

/** The share of box `a` that lies inside the box at `b[bAt..bAt+4]`. */
function coveredFraction(a: readonly number[], b: Float32Array, bAt: number): number {
  const w = Math.min(a[2]!, b[bAt + 2]!) - Math.max(a[0]!, b[bAt]!);
  const h = Math.min(a[3]!, b[bAt + 3]!) - Math.max(a[1]!, b[bAt + 1]!);
  if (w <= 0 || h <= 0) return 0;
  const area = (a[2]! - a[0]!) * (a[3]! - a[1]!);
  return area > 0 ? (w * h) / area : 0;
}

export function blobInstances(
  blobs: readonly MotionBlob[],
  model: Instances | undefined,
  ownClasses: ClassSet,
  options: BlobInstanceOptions,
): Instances {
  let classId = 0;
  let kept = blobs;
  if (model) {
    classId = model.classes.names.indexOf(options.className);
    if (classId < 0) {
      throw new Error(
        `motion-segmentation: className "${options.className}" is not a class of ${model.model} (${model.classes.names.join(', ')}); ` +
          `use one of its names, so moving blobs and detections are one class`,
      );
    }
    kept = blobs.filter((blob) => {
      for (let i = 0; i < model.count; i++) if (coveredFraction(blob.box, model.boxes, i * 4) >= options.modelOverlap) return false;
      return true;
    });
  }
  const before = model?.count ?? 0;
  const count = before + kept.length;
  const boxes = new Float32Array(count * 4);
  const scores = new Float32Array(count);
  const classIds = new Int32Array(count);
  if (model) {
    boxes.set(model.boxes.subarray(0, before * 4));
    scores.set(model.scores.subarray(0, before));
    classIds.set(model.classIds.subarray(0, before));
  }
  kept.forEach((blob, k) => {
    boxes.set(blob.box, (before + k) * 4);
    scores[before + k] = options.score;
    classIds[before + k] = classId;
  });
  // Masks are all or none (Instances.masks): after a box-only detector the blobs go box-only too.
  const masks = model && !model.masks ? undefined : [...(model?.masks ?? []), ...kept.map((blob) => blob.mask)];
  return {
    model: model ? `${model.model}+motion` : 'motion',
    count,
    boxes,
    scores,
    classIds,
    classes: model?.classes ?? ownClasses,
    masks,
  };
}
