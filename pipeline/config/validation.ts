import type { z } from 'zod';

/**
 * A configuration problem, phrased for the person who wrote the file: which file, which key,
 * what was expected and what was found.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** `a.b[2].c` from a zod issue path. */
export function keyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || '(top level)';
}

function describeFound(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value);
  return json === undefined ? String(value) : json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

/**
 * "Invalid input" says nothing when a value matches none of a union's shapes (a pipeline entry
 * is a node or a parallel block): report the shape it came closest to, the one with the fewest
 * problems, as if it were the only one.
 */
function closestAlternative(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [issue];
  const closest = issue.errors.reduce((best, errors) => (errors.length < best.length ? errors : best));
  return closest.flatMap((inner) => closestAlternative({ ...inner, path: [...issue.path, ...inner.path] }));
}

export interface Where {
  readonly file: string;
  /** The key path of `value` in the file. */
  readonly prefix?: readonly PropertyKey[];
  /**
   * Refuse unknown keys at every level, in objects the schema declares plain (`z.object`,
   * which would drop them silently) as well as strict ones: a node's nested options.
   */
  readonly unknownKeysEverywhere?: boolean;
}

/**
 * Every problem of `value` against `schema`, as `<file>: <key path>: <what was expected>, found
 * <value>` lines, none when it parses. An unknown key comes with the fix: the known key it is
 * closest to, else the keys known there.
 */
export function explainProblems(schema: z.ZodType, value: unknown, where: Where): { lines: string[]; data?: unknown } {
  const result = schema.safeParse(value, { reportInput: true });
  const at = (path: readonly PropertyKey[]) => keyPath([...(where.prefix ?? []), ...path]);
  const lines = result.success
    ? []
    : result.error.issues.flatMap(closestAlternative).map((issue) => {
        if (issue.code === 'unrecognized_keys') {
          return `${where.file}: ${at(issue.path)}: ${unknownKeysMessage(issue.keys, knownKeysAt(schema, value, issue.path))}`;
        }
        const found = 'input' in issue ? `, found ${describeFound(issue.input)}` : '';
        return `${where.file}: ${at(issue.path)}: ${issue.message}${found}`;
      });
  if (where.unknownKeysEverywhere) {
    for (const extra of droppedKeys(schema, value, [])) {
      lines.push(`${where.file}: ${at(extra.path)}: ${unknownKeysMessage(extra.keys, extra.known)}`);
    }
  }
  return result.success && lines.length === 0 ? { lines, data: result.data } : { lines };
}

/**
 * Parses `value` with `schema`, or throws a {@link ConfigError} listing every problem
 * ({@link explainProblems}).
 */
export function parseOrExplain<T>(schema: z.ZodType<T>, value: unknown, where: Where): T {
  const { lines, data } = explainProblems(schema, value, where);
  if (lines.length) throw new ConfigError(lines.join('\n'));
  return data as T;
}

/**
 * Problems gathered over a whole config, so that one run reports them all (every unknown key
 * at every level, every bad value) rather than the first one per run.
 */
export class ConfigProblems {
  private readonly lines: string[] = [];

  /** Runs `check`; a {@link ConfigError} it throws is kept (undefined returned), anything else goes on up. */
  run<T>(check: () => T): T | undefined {
    try {
      return check();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      this.lines.push(...error.message.split('\n').filter((line) => !this.lines.includes(line)));
      return undefined;
    }
  }

  get any(): boolean {
    return this.lines.length > 0;
  }

  /** Throws one {@link ConfigError} listing every problem kept, if any. */
  throwIfAny(): void {
    if (this.lines.length) throw new ConfigError(this.lines.join('\n'));
  }
}

function unknownKeysMessage(keys: readonly string[], known: readonly string[]): string {
  const what = `Unrecognized key${keys.length === 1 ? '' : 's'}: ${keys.map((key) => `"${key}"`).join(', ')}`;
  const guesses = keys.map((key) => [key, nearest(key, known)] as const).filter((pair): pair is readonly [string, string] => pair[1] !== undefined);
  if (guesses.length) return `${what}; did you mean ${guesses.map(([key, guess]) => `"${guess}" (for "${key}")`).join(', ')}?`;
  return known.length ? `${what}; the keys here are ${known.join(', ')}` : what;
}

/** The known key a misspelt one is closest to: two edits at most (a third of its length for short keys). */
function nearest(key: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(key.toLowerCase(), name.toLowerCase());
    if (distance <= Math.min(2, Math.max(1, Math.floor(name.length / 3))) && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** Edits from `a` to `b`: a letter added, dropped or changed, or two neighbours swapped (`prot`, `port`). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

type AnySchema = z.core.$ZodType;

/** The schema inside the wrappers that do not change a value's shape (optional, default, a transform's input, …). */
function unwrap(schema: AnySchema): AnySchema {
  const def = schema._zod.def as unknown as { type: string; innerType?: AnySchema; in?: AnySchema; getter?: () => AnySchema };
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      return unwrap(def.innerType!);
    case 'pipe':
      return unwrap(def.in!);
    case 'lazy':
      return unwrap(def.getter!());
    default:
      return schema;
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** The object schema `value` takes at `path` (the branch of a union that fits), for its key names. */
function knownKeysAt(schema: AnySchema, value: unknown, path: readonly PropertyKey[]): string[] {
  let current: AnySchema | undefined = unwrap(schema);
  let here = value;
  for (const key of path) {
    current = current && childSchema(current, here, key, true);
    here = isRecord(here) || Array.isArray(here) ? (here as Record<PropertyKey, unknown>)[key as string] : undefined;
    if (!current) return [];
  }
  const object = current && branchFor(current, here, true);
  return object && object._zod.def.type === 'object' ? Object.keys((object._zod.def as unknown as { shape: object }).shape) : [];
}

/**
 * A union's branch that `value` fits: one that parses it; else, with `guess`, the first object
 * branch (for naming known keys), without it none (no key is called unknown on a guess).
 */
function branchFor(schema: AnySchema, value: unknown, guess = false): AnySchema | undefined {
  const bare = unwrap(schema);
  const def = bare._zod.def as unknown as { type: string; options?: AnySchema[] };
  if (def.type !== 'union') return bare;
  const options = def.options ?? [];
  const fits = options.find((option) => (option as z.ZodType).safeParse(value).success);
  if (fits) return branchFor(fits, value, guess);
  return guess ? options.map(unwrap).find((option) => option._zod.def.type === 'object') : undefined;
}

function childSchema(schema: AnySchema, value: unknown, key: PropertyKey, guess: boolean): AnySchema | undefined {
  const bare = branchFor(schema, value, guess);
  if (!bare) return undefined;
  const def = bare._zod.def as unknown as { type: string; shape?: Record<string, AnySchema>; element?: AnySchema; valueType?: AnySchema; items?: AnySchema[]; catchall?: AnySchema };
  if (def.type === 'object') return def.shape![key as string] ?? def.catchall;
  if (def.type === 'array') return def.element;
  if (def.type === 'record') return def.valueType;
  if (def.type === 'tuple') return def.items![key as number];
  return undefined;
}

/**
 * Keys of `value` that a plain `z.object` inside `schema` would drop without a word: the
 * objects a config means strictly but that were declared plain. Strict objects are left out
 * (the parse reports their keys), loose ones too (they keep every key on purpose).
 */
function droppedKeys(schema: AnySchema, value: unknown, path: PropertyKey[]): { path: PropertyKey[]; keys: string[]; known: string[] }[] {
  const bare = branchFor(schema, value);
  if (!bare) return [];
  const def = bare._zod.def as unknown as { type: string; shape?: Record<string, AnySchema>; element?: AnySchema; valueType?: AnySchema; items?: AnySchema[]; catchall?: AnySchema };
  if (def.type === 'object' && isRecord(value)) {
    const shape = def.shape!;
    const known = Object.keys(shape);
    const found: { path: PropertyKey[]; keys: string[]; known: string[] }[] = [];
    const extra = Object.keys(value).filter((key) => !(key in shape));
    if (def.catchall === undefined && extra.length) found.push({ path, keys: extra, known });
    for (const key of known) if (value[key] !== undefined) found.push(...droppedKeys(shape[key]!, value[key], [...path, key]));
    return found;
  }
  if (def.type === 'array' && Array.isArray(value)) return value.flatMap((item, i) => droppedKeys(def.element!, item, [...path, i]));
  if (def.type === 'record' && isRecord(value)) return Object.entries(value).flatMap(([key, item]) => droppedKeys(def.valueType!, item, [...path, key]));
  if (def.type === 'tuple' && Array.isArray(value)) return def.items!.flatMap((item, i) => droppedKeys(item, value[i], [...path, i]));
  return [];
}
