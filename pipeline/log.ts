/** A small leveled logger: one line per event, to stderr, so stdout stays free for data. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** A logger whose lines are prefixed with `[scope]`. */
  child(scope: string): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** The level PANOPTES_LOG asks for; anything unknown is `info`, never silence. */
function levelFromEnvironment(): LogLevel {
  const asked = process.env.PANOPTES_LOG?.toLowerCase();
  if (asked === undefined || asked === '') return 'info';
  if (asked in ORDER) return asked as LogLevel;
  process.stderr.write(`warn  [panoptes] PANOPTES_LOG=${process.env.PANOPTES_LOG} is not one of debug, info, warn, error; using info\n`);
  return 'info';
}

export function createLogger(
  level: LogLevel = levelFromEnvironment(),
  write: (line: string) => void = (line) => process.stderr.write(line + '\n'),
  scope = 'panoptes',
): Logger {
  const at = (lineLevel: LogLevel) => (message: string) => {
    if (ORDER[lineLevel] >= ORDER[level]) write(`${lineLevel.padEnd(5)} [${scope}] ${message}`);
  };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (child) => createLogger(level, write, `${scope}:${child}`),
  };
}

/** A logger that keeps its lines in memory; for tests and for embedding. */
export function createMemoryLogger(): Logger & { readonly lines: string[] } {
  const lines: string[] = [];
  return Object.assign(createLogger('debug', (line) => lines.push(line)), { lines });
}
