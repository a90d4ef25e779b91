/**
 * Sliced inference (the SAHI idea): a small model sees small things better when it looks at
 * overlapping parts of the frame, each scaled up to its input size, than at the whole frame
 * scaled down. This file lays the slices out; the heads run them as one unit and merge what they
 * find (nodes/heads/greedy-merge.ts).
 *
 * ```yaml
 * slices: { grid: [2, 3], overlap: 0.2, fullFrame: true }          # 2 rows x 3 columns
 * slices: { size: [640, 640], overlap: 0.2 }                       # as many 640 px slices as fit
 * slices: { grid: [1, 2], regions: [[0, 0.3, 1, 0.7]] }            # only across the middle band
 * ```
 */
import { z } from 'zod';

/** A rectangle of the frame in whole pixels: what one model run looks at. */
export interface SliceRegion {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

const normalizedBox = z
  .tuple([z.number().min(0).max(1), z.number().min(0).max(1), z.number().min(0).max(1), z.number().min(0).max(1)])
  .refine(([x1, y1, x2, y2]) => x2 > x1 && y2 > y1, 'a region is [x1, y1, x2, y2] with x2 > x1 and y2 > y1 (fractions of the frame)');

export const slicesSchema = z
  .object({
    grid: z
      .tuple([z.number().int().min(1).max(16), z.number().int().min(1).max(16)])
      .optional()
      .describe('[rows, cols]: that many slices, sized to cover the frame (or each region) with the overlap'),
    size: z
      .tuple([z.number().int().min(16), z.number().int().min(16)])
      .optional()
      .describe('[width, height] of each slice in frame pixels; as many as cover the frame (or each region)'),
    overlap: z
      .number()
      .min(0)
      .max(0.9)
      .default(0.2)
      .describe('Fraction of a slice shared with its neighbour, so that an object cut by one border is whole in the next slice'),
    fullFrame: z
      .boolean()
      .default(false)
      .describe('Also run the model on the whole frame (finds the large objects no slice holds whole)'),
    regions: z
      .array(normalizedBox)
      .min(1)
      .optional()
      .describe('Only these parts of the frame, [x1, y1, x2, y2] as fractions (e.g. around the zones); the whole frame when omitted'),
    mergeThreshold: z
      .number()
      .min(0)
      .max(1)
      .default(0.5)
      .describe('Two detections of one class from different slices are one object when their intersection covers this much of the smaller box'),
  })
  .strict()
  .refine((s) => (s.grid === undefined) !== (s.size === undefined), {
    message: 'give either grid: [rows, cols] or size: [width, height], not both and not neither',
  });

export type SlicesOptions = z.infer<typeof slicesSchema>;

/**
 * Starts of `count` spans of `span` pixels covering `[from, from + length)`, evenly spread, the
 * first at `from` and the last ending at `from + length`.
 */
function starts(from: number, length: number, span: number, count: number): number[] {
  if (count === 1) return [from + Math.floor((length - span) / 2)];
  return Array.from({ length: count }, (_, i) => from + Math.round((i * (length - span)) / (count - 1)));
}

/** Slices along one axis of `length` pixels starting at `from`: the span and the count. */
function axis(length: number, overlap: number, count: number | undefined, size: number | undefined): { span: number; count: number } {
  if (count !== undefined) {
    // count spans with (count - 1) overlaps of overlap*span each cover the length exactly.
    const span = Math.ceil(length / (count - (count - 1) * overlap));
    return { span: Math.min(span, length), count };
  }
  const span = Math.min(size!, length);
  const step = Math.max(1, Math.floor(span * (1 - overlap)));
  return { span, count: span >= length ? 1 : Math.ceil((length - span) / step) + 1 };
}

/**
 * The slices of a `frameWidth x frameHeight` frame, row by row; with `fullFrame`, the whole
 * frame comes first. Slices never leave the frame.
 */
export function planSlices(frameWidth: number, frameHeight: number, options: SlicesOptions): SliceRegion[] {
  const areas: SliceRegion[] = (options.regions ?? [[0, 0, 1, 1]]).map(([x1, y1, x2, y2]) => {
    const x = Math.floor(x1 * frameWidth);
    const y = Math.floor(y1 * frameHeight);
    return { x, y, width: Math.max(1, Math.ceil(x2 * frameWidth) - x), height: Math.max(1, Math.ceil(y2 * frameHeight) - y) };
  });
  const slices: SliceRegion[] = options.fullFrame ? [{ x: 0, y: 0, width: frameWidth, height: frameHeight }] : [];
  for (const area of areas) {
    const columns = axis(area.width, options.overlap, options.grid?.[1], options.size?.[0]);
    const rows = axis(area.height, options.overlap, options.grid?.[0], options.size?.[1]);
    for (const y of starts(area.y, area.height, rows.span, rows.count)) {
      for (const x of starts(area.x, area.width, columns.span, columns.count)) {
        slices.push({ x, y, width: columns.span, height: rows.span });
      }
    }
  }
  return slices;
}
