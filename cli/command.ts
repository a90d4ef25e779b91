/**
 * What a `panoptes` command is, and the one place a usage mistake becomes its message, the
 * command's usage on stderr and exit code 2. Commands read their arguments with
 * parseCommandLine (parse-command-line.ts).
 */
import { UsageError } from '../lib/errors.ts';
import type { Logger } from '../pipeline/log.ts';

/** Where a command prints its result: stdout in the CLI; tests pass their own. */
export type Write = (text: string) => void;

export const writeToStdout: Write = (text) => void process.stdout.write(text);

export interface Command {
  /** What `--help` prints on stdout, and what follows the message of a usage mistake on stderr. */
  readonly usage: string;
  /** Runs the command and returns the exit code; throws a UsageError for a mistake on the command line. */
  readonly run: (args: readonly string[], log: Logger) => Promise<number>;
}

/** Runs a command; a usage mistake is logged, followed by the command's usage, and exits 2. */
export async function executeCommand(command: Command, args: readonly string[], log: Logger): Promise<number> {
  try {
    return await command.run(args, log);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    log.error(err.message);
    process.stderr.write(`\n${command.usage}\n`);
    return 2;
  }
}

const HELP = new Set(['--help', '-h', 'help']);

/**
 * A command whose first argument picks one of its subcommands (`panoptes <command>`,
 * `panoptes eval <metric>`); a mistake further on prints that subcommand's usage.
 */
export function commandGroup(usage: string, what: string, subcommands: Readonly<Record<string, Command>>): Command {
  return {
    usage,
    run: async (args, log) => {
      const [first, ...rest] = args;
      if (first !== undefined && HELP.has(first)) {
        process.stdout.write(usage + '\n');
        return 0;
      }
      if (first === undefined) throw new UsageError(`expected a ${what}: ${Object.keys(subcommands).join(', ')}`);
      const subcommand = Object.hasOwn(subcommands, first) ? subcommands[first] : undefined;
      if (!subcommand) throw new UsageError(`unknown ${what} "${first}"; expected one of ${Object.keys(subcommands).join(', ')}`);
      return executeCommand(subcommand, rest, log);
    },
  };
}
