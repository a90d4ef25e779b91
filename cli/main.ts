/**
 * The `panoptes` command. Subcommands live one per file next to this one; this is the one place
 * where an error becomes an exit code.
 */
import { ConfigError } from '../pipeline/config/validation.ts';
import { createLogger } from '../pipeline/log.ts';
import { benchCommand } from './bench-command.ts';
import { commandGroup, executeCommand } from './command.ts';
import { dashboardCommand } from './dashboard-command.ts';
import { evalCommand } from './eval-command.ts';
import { nodesCommand, NODES_USAGE } from './nodes-command.ts';
import { runCommand } from './run-command.ts';

export const PANOPTES_USAGE = `usage: panoptes <command> [options]

Commands:
  run <config>    run a pipeline (panoptes run --help for its options)
  eval <metric>   score results against ground truth (panoptes eval --help)
  bench [config]  measure decode, bare inference, pipeline, latency, memory (panoptes bench --help)
  dashboard       the live dashboard of a cluster of workers (panoptes dashboard --help)
  nodes [type]    the node types a config can name, and their options (panoptes nodes --help)

Environment:
  PANOPTES_DATA   folder holding models/ and replay/ (default: ../shared beside the repository)
  PANOPTES_LOG    debug, info, warn or error (default: info)
  FFMPEG_PATH     the ffmpeg binary to use (default: ffmpeg on PATH, else the one npm installed)`;

const panoptes = commandGroup(PANOPTES_USAGE, 'command', {
  run: runCommand,
  eval: evalCommand,
  bench: benchCommand,
  dashboard: dashboardCommand,
  nodes: { usage: NODES_USAGE, run: (args) => nodesCommand(args) },
});

/**
 * Runs `panoptes <argv>` and returns the exit code: 0 done, 1 a stream failed or a model, clip
 * or file could not be used, 2 a usage mistake (printed with the command's usage) or a config
 * mistake.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const log = createLogger();
  try {
    return await executeCommand(panoptes, argv, log);
  } catch (err) {
    // Config, data and model problems: the message says what and how to fix it, so no stack
    // unless asked for (PANOPTES_LOG=debug).
    const error = err instanceof Error ? err : new Error(String(err));
    log.error(error.message);
    if (process.env.PANOPTES_LOG === 'debug' && error.stack) process.stderr.write(error.stack + '\n');
    return error instanceof ConfigError ? 2 : 1;
  }
}
