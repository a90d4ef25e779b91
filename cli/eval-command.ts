import { EVAL_MOT_USAGE, evalMotCommand } from '../evaluation/mot/eval-mot-command.ts';
import { EVAL_SEGMENTATION_USAGE, evalSegmentationCommand } from '../evaluation/segmentation/eval-segmentation-command.ts';
import { UsageError } from './usage-error.ts';

export const EVAL_USAGE = `panoptes eval <metric> [options]   (prints one JSON object)

Metrics:
  mot             multi-object tracking: MOTA, IDF1, HOTA... (MOTChallenge text files)
  semantic        IoU, Dice, pixel and class accuracy (label-map PNGs)
  panoptic        PQ, SQ, RQ (COCO panoptic PNG + JSON)
  video-panoptic  VPQ and STQ (sequences of COCO panoptic PNGs)

${EVAL_MOT_USAGE}

${EVAL_SEGMENTATION_USAGE.semantic}

${EVAL_SEGMENTATION_USAGE.panoptic}

${EVAL_SEGMENTATION_USAGE['video-panoptic']}`;

/** `panoptes eval <metric>`: returns the process exit code. */
export async function evalCommand(args: readonly string[]): Promise<number> {
  const [metric, ...rest] = args;
  switch (metric) {
    case 'mot':
      return evalMotCommand(rest);
    case 'semantic':
    case 'panoptic':
    case 'video-panoptic':
      return evalSegmentationCommand(metric, rest);
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(EVAL_USAGE + '\n');
      return metric === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown metric "${metric}" for panoptes eval`);
  }
}
