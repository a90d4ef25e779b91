/**
 * `panoptes eval mot`: multi-object-tracking metrics of a tracker's output against ground truth,
 * printed as one JSON object.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../../cli/usage-error.ts';
import { evaluateMot } from './evaluate.ts';

export const EVAL_MOT_USAGE = `panoptes eval mot --gt <gt> --pred <pred> [--iou 0.5]

Scores tracks against ground truth as MOTChallenge does for pedestrians (CLEAR MOT as py-motmetrics,
identity and HOTA as TrackEval) and prints one JSON object: per sequence and combined over all
sequences, HOTA, DetA, AssA, MOTA, MOTP, IDF1, IDP, IDR, Recall, Precision, FP, FN, IDSW,
MT, PT, ML, Frag...

Options:
  --gt <path>     ground truth: a MOTChallenge .txt file, a sequence folder holding gt/gt.txt,
                  or a folder with one <seq>/gt/gt.txt (or <seq>.txt) per sequence
  --pred <path>   predictions: a MOTChallenge .txt file, or a folder with one <seq>.txt per
                  sequence (a sequence without one is scored as an empty prediction)
  --iou <t>       IoU a prediction needs to match a ground-truth box, in (0, 1] (default 0.5)`;

/** Where the JSON goes; tests pass their own. */
export type Write = (text: string) => void;

/** `panoptes eval mot`: returns the process exit code. */
export async function evalMotCommand(
  args: readonly string[],
  write: Write = (text) => void process.stdout.write(text),
): Promise<number> {
  let values: { gt?: string; pred?: string; iou: string; help: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      allowPositionals: false,
      options: {
        gt: { type: 'string' },
        pred: { type: 'string' },
        iou: { type: 'string', default: '0.5' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    // parseArgs explains unknown options and missing values well; make it a usage mistake.
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (values.help) {
    write(EVAL_MOT_USAGE + '\n');
    return 0;
  }
  if (values.gt === undefined) throw new UsageError('--gt is required: the ground-truth file or folder');
  if (values.pred === undefined) throw new UsageError('--pred is required: the predictions file or folder');
  const iouThreshold = Number(values.iou);
  if (values.iou.trim() === '' || !(iouThreshold > 0 && iouThreshold <= 1)) {
    throw new UsageError(`--iou expects a number in (0, 1], got "${values.iou}"`);
  }
  const report = evaluateMot({ gt: values.gt, pred: values.pred, iouThreshold });
  write(JSON.stringify(report, null, 2) + '\n');
  return 0;
}
