/**
 * The one argument parser of every `panoptes` command: what it accepts, and the UsageError,
 * with a message naming the mistake, for everything else. The CLI process tests
 * (run-cli.test.ts) show each command exiting 2 with its usage.
 */
import { describe, expect, it } from 'vitest';
import { oneOf, parseCommandLine, required, wholeNumber } from '../../cli/parse-command-line.ts';
import { UsageError } from '../../lib/errors.ts';

const SPEC = {
  options: {
    port: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
  positionals: { min: 1, max: 1, expected: 'exactly one config file' },
} as const;

const usageMistake = (run: () => unknown, message: string) => {
  expect(run).toThrow(UsageError);
  expect(run).toThrow(message);
};

describe('parseCommandLine', () => {
  it('reads options and positionals, typed as declared', () => {
    const line = parseCommandLine(['a.yaml', '--port', '8080', '--json'], SPEC);
    expect(line).toMatchObject({ help: false, positionals: ['a.yaml'], values: { port: '8080', json: true } });
    expect(parseCommandLine(['a.yaml', '--port=0'], SPEC).values).toEqual({ port: '0', json: false, help: false });
  });

  it('takes --help and -h on every command, whatever else is missing', () => {
    expect(parseCommandLine(['--help'], SPEC).help).toBe(true);
    expect(parseCommandLine(['-h'], { options: {} }).help).toBe(true);
  });

  it('names an unknown option in one line, long or short', () => {
    usageMistake(() => parseCommandLine(['a.yaml', '--bogus'], SPEC), 'unknown option --bogus');
    usageMistake(() => parseCommandLine(['a.yaml', '-x'], SPEC), 'unknown option -x');
  });

  it('says when a value is missing or given to a flag that takes none', () => {
    usageMistake(() => parseCommandLine(['a.yaml', '--port'], SPEC), "Option '--port <value>' argument missing");
    usageMistake(() => parseCommandLine(['a.yaml', '--json=yes'], SPEC), "Option '--json' does not take an argument");
    // Another option where a value should be is a missing value, on one line.
    expect(() => parseCommandLine(['a.yaml', '--port', '--json'], SPEC)).toThrow(/^Option '--port' argument is ambiguous\. [^\n]*$/);
  });

  it('takes a negative number after an option as its value, for the number check to name', () => {
    expect(parseCommandLine(['a.yaml', '--port', '-1'], SPEC).values.port).toBe('-1');
    expect(parseCommandLine(['a.yaml', '--port', '-0.5'], SPEC).values.port).toBe('-0.5');
    // Not after --, where everything is a positional.
    usageMistake(() => parseCommandLine(['a.yaml', '--', '--port', '-1'], SPEC), 'expected exactly one config file, got "a.yaml" "--port" "-1"');
  });

  it('checks the number of positionals', () => {
    usageMistake(() => parseCommandLine([], SPEC), 'expected exactly one config file, got none');
    usageMistake(() => parseCommandLine(['a.yaml', 'b.yaml'], SPEC), 'expected exactly one config file, got "a.yaml" "b.yaml"');
    usageMistake(() => parseCommandLine(['stray'], { options: {} }), 'expected no arguments besides options, got "stray"');
  });

  it('lets other errors through as they are', () => {
    // A spec mistake is the programmer's, not the user's: not a usage error.
    const broken = { options: { port: { type: 'number' } } } as unknown as typeof SPEC;
    expect(() => parseCommandLine(['--port', '1'], broken)).toThrow();
    expect(() => parseCommandLine(['--port', '1'], broken)).not.toThrow(UsageError);
  });
});

describe('option values', () => {
  it('wholeNumber takes digits only, within its range', () => {
    expect(wholeNumber('0', '--port')).toBe(0);
    expect(wholeNumber('65535', '--port', { max: 65535 })).toBe(65535);
    expect(wholeNumber(undefined, '--port')).toBeUndefined();
    usageMistake(() => wholeNumber('-1', '--max-frames'), '--max-frames expects a whole number, got "-1"');
    usageMistake(() => wholeNumber('abc', '--max-frames'), '--max-frames expects a whole number, got "abc"');
    for (const loose of ['', ' 5', '1e3', '2.0', '0x10', '99999999999999999999']) {
      usageMistake(() => wholeNumber(loose, '--max-frames'), `--max-frames expects a whole number, got "${loose}"`);
    }
    usageMistake(() => wholeNumber('1', '--frames', { min: 2 }), '--frames expects a whole number of at least 2, got "1"');
    usageMistake(() => wholeNumber('65536', '--port', { max: 65535 }), '--port expects a whole number from 0 to 65535, got "65536"');
  });

  it('oneOf and required', () => {
    expect(oneOf('cpu', '--ep', ['cpu', 'cuda'])).toBe('cpu');
    expect(oneOf(undefined, '--ep', ['cpu', 'cuda'])).toBeUndefined();
    usageMistake(() => oneOf('tpu', '--ep', ['cpu', 'cuda']), '--ep expects one of cpu, cuda, got "tpu"');
    expect(required('x', '--gt')).toBe('x');
    usageMistake(() => required(undefined, '--gt', 'the ground-truth folder'), '--gt is required: the ground-truth folder');
    usageMistake(() => required('', '--gt'), '--gt is required');
  });
});
