/**
 * The one way every `panoptes` command reads its arguments: node:util's parseArgs, strict, with
 * `--help`/`-h` added to every command, the number of positional arguments checked, and every
 * mistake (unknown option, missing value, extra argument, malformed number) thrown as a
 * {@link UsageError}, which the CLI prints with the command's usage and exit code 2.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../lib/errors.ts';

type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

const HELP_OPTION = { help: { type: 'boolean', short: 'h', default: false } } as const;

export interface CommandLineSpec<O extends OptionSpecs> {
  /** The command's options, as parseArgs takes them (`--help` is added). */
  readonly options: O;
  /**
   * The positional arguments it takes, and how to say so when the count is wrong
   * (`expected: 'exactly one config file'`). Default: none.
   */
  readonly positionals?: { readonly min: number; readonly max: number; readonly expected: string };
}

type Parsed<O extends OptionSpecs> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O & typeof HELP_OPTION; allowPositionals: true; strict: true }>
>;

/** The parsed command line; `help` is true when the user asked for the usage instead. */
export type CommandLine<O extends OptionSpecs> = Parsed<O> & { readonly help: boolean };

/**
 * parseArgs's errors as one line that names the mistake: they carry an ERR_PARSE_ARGS_ code, and
 * some span several lines or suggest `--` for positionals where the command takes none.
 */
function usageErrorOf(err: unknown): UsageError | undefined {
  const code = String((err as { code?: unknown } | null)?.code ?? '');
  if (!(err instanceof Error) || !code.startsWith('ERR_PARSE_ARGS_')) return undefined;
  const option = /'([^']+)'/.exec(err.message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) return new UsageError(`unknown option ${option}`);
  return new UsageError(err.message.replace(/\s*\n\s*/g, ' '));
}

/**
 * `--port -1` as `--port=-1`: parseArgs reads a value that starts with a dash as a missing
 * value, but no option is named by a digit, so a negative number is the value (and gets the
 * number's own message: "expects a whole number").
 */
function negativeNumbersAsValues(args: readonly string[], options: OptionSpecs): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return [...joined, ...args.slice(i)];
    const next = args[i + 1];
    const takesValue = arg.startsWith('--') && options[arg.slice(2)]?.type === 'string';
    if (takesValue && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

/** Parses a command's arguments, or throws a UsageError naming the mistake. */
export function parseCommandLine<const O extends OptionSpecs>(args: readonly string[], spec: CommandLineSpec<O>): CommandLine<O> {
  let parsed: Parsed<O>;
  try {
    parsed = parseArgs({
      args: negativeNumbersAsValues(args, spec.options),
      options: { ...spec.options, ...HELP_OPTION },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw usageErrorOf(err) ?? err;
  }
  // Generic in O, so TypeScript cannot see the help option it was given above.
  const help = (parsed.values as { readonly help?: boolean }).help === true;
  const { min, max, expected } = spec.positionals ?? { min: 0, max: 0, expected: 'no arguments besides options' };
  const count = parsed.positionals.length;
  if (!help && (count < min || count > max)) {
    const got = count === 0 ? 'none' : parsed.positionals.map((p) => `"${p}"`).join(' ');
    throw new UsageError(`expected ${expected}, got ${got}`);
  }
  return Object.assign(parsed, { help });
}

/** The value of an option that must be given. */
export function required(value: string | undefined, flag: string, what?: string): string {
  if (value === undefined || value === '') throw new UsageError(`${flag} is required${what ? `: ${what}` : ''}`);
  return value;
}

export interface WholeNumberRange {
  readonly min?: number;
  readonly max?: number;
}

/**
 * A whole-number option value within [min, max] (default: 0 and up). Digits only, so neither
 * "" nor "1e3" nor " 5" slips through as Number() would take them.
 */
export function wholeNumber(value: string, flag: string, range?: WholeNumberRange): number;
export function wholeNumber(value: string | undefined, flag: string, range?: WholeNumberRange): number | undefined;
export function wholeNumber(value: string | undefined, flag: string, { min = 0, max }: WholeNumberRange = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || (max !== undefined && n > max)) {
    const range = max !== undefined ? ` from ${min} to ${max}` : min > 0 ? ` of at least ${min}` : '';
    throw new UsageError(`${flag} expects a whole number${range}, got "${value}"`);
  }
  return n;
}

/** An option value that must be one of a few words. */
export function oneOf<const T extends string>(value: string | undefined, flag: string, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) throw new UsageError(`${flag} expects one of ${choices.join(', ')}, got "${value}"`);
  return value as T;
}
