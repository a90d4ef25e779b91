import { EVAL_MOT_USAGE, evalMotCommand } from '../evaluation/mot/eval-mot-command.ts';
import { UsageError } from './usage-error.ts';

export const EVAL_USAGE = `panoptes eval <metric> [options]   (prints one JSON object)

Metrics:
  mot      multi-object tracking: MOTA, IDF1, HOTA... (panoptes eval mot --help)

${EVAL_MOT_USAGE}`;

/** `panoptes eval <metric>`: returns the process exit code. */
export async function evalCommand(args: readonly string[]): Promise<number> {
  const [metric, ...rest] = args;
  switch (metric) {
    case 'mot':
      return evalMotCommand(rest);
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(EVAL_USAGE + '\n');
      return metric === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown metric "${metric}" for panoptes eval`);
  }
}
