/** Hand-built packet sections for tests: class sets and segments that carry their pixels. */
import { segmentRuns } from '../../lib/geometry/pixel-runs.ts';
import type { ClassSet, Segment } from '../../pipeline/frame.ts';

/** A class set whose `things` are thing classes; no void classes unless named. */
export function testClassSet(
  names: readonly string[],
  things: readonly string[] = [],
  options: { readonly voids?: readonly string[]; readonly palette?: ClassSet['palette']; readonly name?: string } = {},
): ClassSet {
  return {
    name: options.name ?? 'test',
    names,
    isThing: names.map((n) => things.includes(n)),
    isVoid: names.map((n) => options.voids?.includes(n) ?? false),
    palette: options.palette,
  };
}

/** The segments with the runs of pixels each owns in `segmentMap`, as fusion would give them. */
export function withRuns(segmentMap: Uint32Array, width: number, segments: readonly Omit<Segment, 'runs'>[]): Segment[] {
  const runs = segmentRuns(segmentMap, width, segments.map((s) => s.id));
  return segments.map((s, k) => ({ ...s, runs: runs[k]! }));
}
