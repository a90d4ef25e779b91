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

/**
 * Parses `value` with `schema`, or throws a {@link ConfigError} listing every problem as
 * `<file>: <key path>: <what was expected>, found <value>`.
 */
export function parseOrExplain<T>(
  schema: z.ZodType<T>,
  value: unknown,
  where: { file: string; prefix?: readonly PropertyKey[] },
): T {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const lines = result.error.issues.flatMap(closestAlternative).map((issue) => {
    const path = keyPath([...(where.prefix ?? []), ...issue.path]);
    const found = 'input' in issue ? `, found ${describeFound(issue.input)}` : '';
    return `${where.file}: ${path}: ${issue.message}${found}`;
  });
  throw new ConfigError(lines.join('\n'));
}
