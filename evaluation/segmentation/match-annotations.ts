/**
 * Pairs each ground-truth annotation with its prediction: by `image_id`, as panopticapi does,
 * and failing that by `file_name`, so that a prediction saved by `--save-panoptic` (image ids
 * are the frame's file stem) can be scored against ground truth that numbers images otherwise.
 */
import type { CocoPanoptic, PanopticAnnotation } from './coco-panoptic-json.ts';

export interface AnnotationPair {
  readonly gt: PanopticAnnotation;
  readonly pred: PanopticAnnotation;
}

const idKey = (id: string | number) => `${typeof id}:${id}`;

export function matchAnnotations(gt: CocoPanoptic, pred: CocoPanoptic, predFlag: string): AnnotationPair[] {
  const byId = new Map(pred.annotations.map((a) => [idKey(a.imageId), a]));
  const byFile = new Map(pred.annotations.map((a) => [a.fileName, a]));
  return gt.annotations.map((annotation) => {
    const match = byId.get(idKey(annotation.imageId)) ?? byFile.get(annotation.fileName);
    if (!match) {
      throw new Error(
        `${predFlag} ${pred.file}: no prediction for the ground-truth image ${JSON.stringify(annotation.imageId)} ` +
          `(${annotation.fileName}); every ground-truth image needs an annotation with the same image_id or file_name`,
      );
    }
    return { gt: annotation, pred: match };
  });
}
