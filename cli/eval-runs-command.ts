/**
 * `panoptes eval runs`: two runs of the same frames compared frame by frame (their --events
 * files), printed as one JSON object; with --min-kept, exit 1 when the second run keeps too few
 * of the first run's things (a regression check for CI).
 */
import { compareRuns } from '../evaluation/runs/compare-runs.ts';
import { UsageError } from '../lib/errors.ts';
import { writeToStdout, type Write } from './command.ts';
import { parseCommandLine, required } from './parse-command-line.ts';

export const EVAL_RUNS_USAGE = `panoptes eval runs --first <events.jsonl> --second <events.jsonl> [--iou 0.5] [--min-kept F]

Compares two runs of the same frames (e.g. a recorded drive, --source drive.mcap, through the old
build and the new one), frame by frame, from their --events files: the thing segments matched one
to one per class at the IoU (kept: the share of the first run's things the second still finds;
added: the second's own), track ids that change partner between the runs, the largest difference
in a stuff class's coverage, frames whose counts differ, and each counting line's totals.

Options:
  --first <file>    the reference run's --events file
  --second <file>   the run to check against it
  --iou <t>         IoU two things need to be the same, in (0, 1] (default 0.5)
  --min-kept <f>    exit 1 when fewer than this share of the first run's things are kept (0..1)`;

/** `panoptes eval runs`: returns the process exit code. */
export async function evalRunsCommand(args: readonly string[], write: Write = writeToStdout): Promise<number> {
  const { values, help } = parseCommandLine(args, {
    options: {
      first: { type: 'string' },
      second: { type: 'string' },
      iou: { type: 'string', default: '0.5' },
      'min-kept': { type: 'string' },
    },
  });
  if (help) {
    write(EVAL_RUNS_USAGE + '\n');
    return 0;
  }
  const first = required(values.first, '--first', "the reference run's --events file");
  const second = required(values.second, '--second', "the checked run's --events file");
  const iou = Number(values.iou);
  if (values.iou.trim() === '' || !(iou > 0 && iou <= 1)) throw new UsageError(`--iou expects a number in (0, 1], got "${values.iou}"`);
  const minKept = values['min-kept'] === undefined ? undefined : Number(values['min-kept']);
  if (minKept !== undefined && !(minKept >= 0 && minKept <= 1)) throw new UsageError(`--min-kept expects a share in [0, 1], got "${values['min-kept']}"`);
  let report;
  try {
    report = compareRuns(first, second, iou);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  write(JSON.stringify(report, null, 2) + '\n');
  return minKept !== undefined && report.things.kept < minKept ? 1 : 0;
}
