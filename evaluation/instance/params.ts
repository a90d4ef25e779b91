/**
 * pycocotools' evaluation parameters (`Params` for `segm` and `bbox`), computed as numpy's
 * `linspace` computes them so that comparisons with the thresholds match its floats exactly.
 */

/** numpy's `linspace(start, stop, num)`: `i * step + start`, the last value exactly `stop`. */
function linspace(start: number, stop: number, num: number): readonly number[] {
  const step = (stop - start) / (num - 1);
  return Array.from({ length: num }, (_, i) => (i === num - 1 ? stop : i * step + start));
}

/** IoU thresholds 0.50:0.05:0.95. */
export const IOU_THRESHOLDS = linspace(0.5, 0.95, 10);
/** The 101 recall points precision is sampled at. */
export const RECALL_THRESHOLDS = linspace(0, 1, 101);
/** Detections kept per image, in increasing order; matching uses the last. */
export const MAX_DETECTIONS = [1, 10, 100] as const;

export interface AreaRange {
  readonly label: 'all' | 'small' | 'medium' | 'large';
  readonly min: number;
  readonly max: number;
}

/** Object areas in pixels; both ends are inside the range, as pycocotools compares them. */
export const AREA_RANGES: readonly AreaRange[] = [
  { label: 'all', min: 0, max: 1e5 ** 2 },
  { label: 'small', min: 0, max: 32 ** 2 },
  { label: 'medium', min: 32 ** 2, max: 96 ** 2 },
  { label: 'large', min: 96 ** 2, max: 1e5 ** 2 },
];

export type IouType = 'segm' | 'bbox';
