/**
 * `panoptes eval instance`: COCO average precision of instance masks or boxes against ground
 * truth, as pycocotools computes it, printed as one JSON object.
 */
import { evaluateInstances } from '../evaluation/instance/evaluate.ts';
import { writeToStdout, type Write } from './command.ts';
import { oneOf, parseCommandLine, required } from './parse-command-line.ts';

export const EVAL_INSTANCE_USAGE = `panoptes eval instance --gt <instances.json> --pred <results.json> [--iou-type segm|bbox]

Scores instance masks or boxes as pycocotools' COCOeval does and prints one JSON object: AP, AP50,
AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl, and AP and AP50 per category (-1 where
nothing has ground truth to score).

Options:
  --gt <file>        COCO ground truth: images, annotations (bbox, segmentation as polygons or
                     RLE, area, iscrowd) and categories
  --pred <file>      COCO results: a list of {image_id, category_id, score, bbox | segmentation}
                     (what panoptes run --save-instances writes)
  --iou-type <type>  segm (masks) or bbox (boxes); default segm when the results carry masks`;

/** `panoptes eval instance`: returns the process exit code. */
export async function evalInstanceCommand(args: readonly string[], write: Write = writeToStdout): Promise<number> {
  const { values, help } = parseCommandLine(args, {
    options: {
      gt: { type: 'string' },
      pred: { type: 'string' },
      'iou-type': { type: 'string' },
    },
  });
  if (help) {
    write(EVAL_INSTANCE_USAGE + '\n');
    return 0;
  }
  const gt = required(values.gt, '--gt', 'the COCO ground-truth JSON file');
  const pred = required(values.pred, '--pred', 'the COCO results JSON file');
  const iouType = oneOf(values['iou-type'], '--iou-type', ['segm', 'bbox'] as const);
  const report = evaluateInstances({ gt, pred, iouType });
  write(JSON.stringify(report, null, 2) + '\n');
  return 0;
}
