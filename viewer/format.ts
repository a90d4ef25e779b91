/** How the page writes numbers, times and counts. */

export const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export const sum = (counts: Readonly<Partial<Record<string, number>>> | undefined): number => Object.values(counts ?? {}).reduce<number>((a, b) => a + (b ?? 0), 0);

export const byName = (a: string, b: string): number => a.localeCompare(b);

/** `180 ms`, `1.4 s`, `12 s`; `–` when not known. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (Math.abs(ms) >= 10_000) return `${(ms / 1000).toFixed(0)} s`;
  if (Math.abs(ms) >= 1000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms)} ms`;
}

/** A time in the stream, `m:ss.s`. */
export function formatPts(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  return `${Math.floor(seconds / 60)}:${(seconds % 60).toFixed(1).padStart(4, '0')}`;
}

/** `1,024`: people, rounded. */
export const people = (n: number): string => Math.round(n).toLocaleString('en-US');

/** `car 3 in · 1 out, truck 1 in · 0 out`: two totals per class, for the lines and zones card. */
export function perClass(
  a: Readonly<Record<string, number>> | undefined,
  b: Readonly<Record<string, number>> | undefined,
  aLabel: string,
  bLabel: string,
): string {
  const classes = [...new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])].sort(byName);
  return classes.map((name) => `${name} ${a?.[name] ?? 0} ${aLabel} · ${b?.[name] ?? 0} ${bLabel}`).join(', ');
}
