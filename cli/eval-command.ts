import { commandGroup } from './command.ts';
import { EVAL_INSTANCE_USAGE, evalInstanceCommand } from './eval-instance-command.ts';
import { EVAL_MOT_USAGE, evalMotCommand } from './eval-mot-command.ts';
import { EVAL_RUNS_USAGE, evalRunsCommand } from './eval-runs-command.ts';
import { EVAL_SEGMENTATION_USAGE, evalSegmentationCommand } from './eval-segmentation-command.ts';

export const EVAL_USAGE = `panoptes eval <metric> [options]   (prints one JSON object)

Metrics:
  mot             multi-object tracking: MOTA, IDF1, HOTA... (MOTChallenge text files)
  semantic        IoU, Dice, pixel and class accuracy (label-map PNGs)
  panoptic        PQ, SQ, RQ (COCO panoptic PNG + JSON)
  video-panoptic  VPQ and STQ (sequences of COCO panoptic PNGs)
  instance        COCO average precision of masks or boxes: AP, AP50, AR... (COCO JSON)
  runs            two runs of the same frames compared frame by frame (their --events files)

${EVAL_MOT_USAGE}

${EVAL_SEGMENTATION_USAGE.semantic}

${EVAL_SEGMENTATION_USAGE.panoptic}

${EVAL_SEGMENTATION_USAGE['video-panoptic']}

${EVAL_INSTANCE_USAGE}

${EVAL_RUNS_USAGE}`;

/** `panoptes eval <metric>`. */
export const evalCommand = commandGroup(EVAL_USAGE, 'metric', {
  mot: { usage: EVAL_MOT_USAGE, run: (args) => evalMotCommand(args) },
  semantic: { usage: EVAL_SEGMENTATION_USAGE.semantic, run: (args) => evalSegmentationCommand('semantic', args) },
  panoptic: { usage: EVAL_SEGMENTATION_USAGE.panoptic, run: (args) => evalSegmentationCommand('panoptic', args) },
  'video-panoptic': {
    usage: EVAL_SEGMENTATION_USAGE['video-panoptic'],
    run: (args) => evalSegmentationCommand('video-panoptic', args),
  },
  instance: { usage: EVAL_INSTANCE_USAGE, run: (args) => evalInstanceCommand(args) },
  runs: { usage: EVAL_RUNS_USAGE, run: (args) => evalRunsCommand(args) },
});
