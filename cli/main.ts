/**
 * The `panoptes` command. Subcommands live one per file next to this one.
 */
import { ConfigError } from '../pipeline/config/validation.ts';
import { createLogger } from '../pipeline/log.ts';
import { BENCH_USAGE, benchCommand } from '../bench/pipeline-bench.ts';
import { EVAL_USAGE, evalCommand } from './eval-command.ts';
import { RUN_USAGE, runCommand } from './run-command.ts';
import { UsageError } from './usage-error.ts';

const USAGE = `usage: panoptes <command> [options]

Commands:
  run <config>    run a pipeline (panoptes run --help for its options)
  eval <metric>   score results against ground truth (panoptes eval --help)
  bench [config]  measure decode, bare inference, pipeline, latency, memory (panoptes bench --help)

Environment:
  PANOPTES_DATA   folder holding models/ and replay/ (default: ../shared beside the repository)
  PANOPTES_LOG    debug, info, warn or error (default: info)
  FFMPEG_PATH     the ffmpeg binary to use (default: ffmpeg on PATH, else the one npm installed)`;

export async function main(argv: readonly string[]): Promise<number> {
  const log = createLogger();
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'run':
        return await runCommand(rest, log);
      case 'eval':
        return await evalCommand(rest);
      case 'bench':
        return await benchCommand(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE + '\n');
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      log.error(err.message);
      const usage = command === 'run' ? RUN_USAGE : command === 'eval' ? EVAL_USAGE : command === 'bench' ? BENCH_USAGE : USAGE;
      process.stderr.write('\n' + usage + '\n');
      return 2;
    }
    // Config, data and model problems: the message says what and how to fix it, so no stack
    // unless asked for (PANOPTES_LOG=debug).
    const error = err instanceof Error ? err : new Error(String(err));
    log.error(error.message);
    if (process.env.PANOPTES_LOG === 'debug' && error.stack) process.stderr.write(error.stack + '\n');
    return error instanceof ConfigError ? 2 : 1;
  }
}
