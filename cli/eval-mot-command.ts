/**
 * `panoptes eval mot`: multi-object-tracking metrics of a tracker's output against ground truth,
 * printed as one JSON object.
 */
import { evaluateMot } from '../evaluation/mot/evaluate.ts';
import { UsageError } from '../lib/errors.ts';
import { writeToStdout, type Write } from './command.ts';
import { oneOf, parseCommandLine, required } from './parse-command-line.ts';

export const EVAL_MOT_USAGE = `panoptes eval mot --gt <gt> --pred <pred> [--iou 0.5] [--gt-format auto|mot15|mot16]

Scores tracks against ground truth as MOTChallenge does for pedestrians (CLEAR MOT as py-motmetrics,
identity and HOTA as TrackEval) and prints one JSON object: per sequence and combined over all
sequences, HOTA, DetA, AssA, MOTA, MOTP, IDF1, IDP, IDR, Recall, Precision, FP, FN, IDSW,
MT, PT, ML, Frag...

Options:
  --gt <path>     ground truth: a MOTChallenge .txt file, a sequence folder holding gt/gt.txt,
                  or a folder with one <seq>/gt/gt.txt (or <seq>.txt) per sequence
  --pred <path>   predictions: a MOTChallenge .txt file, or a folder with one <seq>.txt per
                  sequence (a sequence without one is scored as an empty prediction)
  --iou <t>       IoU a prediction needs to match a ground-truth box, in (0, 1] (default 0.5)
  --gt-format <f> what ground truth's columns 8 to 10 hold: mot16 (class, visibility), mot15
                  (world x, y, z; every row a pedestrian) or auto (default): MOT15 when some row
                  has 10 values that cannot be MOT16's (column 8 not a whole number, column 9
                  neither -1 nor in [0, 1], or column 10 not -1). The JSON says what each
                  sequence was read as`;

/** `panoptes eval mot`: returns the process exit code. */
export async function evalMotCommand(args: readonly string[], write: Write = writeToStdout): Promise<number> {
  const { values, help } = parseCommandLine(args, {
    options: {
      gt: { type: 'string' },
      pred: { type: 'string' },
      iou: { type: 'string', default: '0.5' },
      'gt-format': { type: 'string', default: 'auto' },
    },
  });
  if (help) {
    write(EVAL_MOT_USAGE + '\n');
    return 0;
  }
  const gt = required(values.gt, '--gt', 'the ground-truth file or folder');
  const pred = required(values.pred, '--pred', 'the predictions file or folder');
  const iouThreshold = Number(values.iou);
  if (values.iou.trim() === '' || !(iouThreshold > 0 && iouThreshold <= 1)) {
    throw new UsageError(`--iou expects a number in (0, 1], got "${values.iou}"`);
  }
  const gtFormat = oneOf(values['gt-format'], '--gt-format', ['auto', 'mot15', 'mot16'] as const);
  const report = evaluateMot({ gt, pred, iouThreshold, gtFormat });
  write(JSON.stringify(report, null, 2) + '\n');
  return 0;
}
