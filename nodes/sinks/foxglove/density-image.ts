/**
 * `/<stream>/density`: the crowd-density map as a `foxglove.RawImage` (`rgb8`, JSON-encoded), the
 * heatmap the overlay draws (yellow to red, black where nobody is) at the size of the density
 * grid (density-grid.ts: at most 160 cells a side, over the node's region). Foxglove's Image panel
 * shows it beside the picture; the count and its band are on `/<stream>/counts`. Sent once per
 * estimate, not per frame.
 */
import type { RawImage } from '@foxglove/schemas';
import type { DensityEstimate, Frame } from '../../../pipeline/frame.ts';
import { densityGrid, heatRgb } from '../density-grid.ts';
import { foxgloveTime } from './foxglove-time.ts';

/** A `RawImage` as a JSON channel carries it: bytes as base64 text. */
export type RawImageJson = Omit<RawImage, 'data'> & { readonly data: string };

export function encodeDensityImage(frame: Frame, density: DensityEstimate): Buffer {
  const grid = densityGrid(density);
  const message: RawImageJson = {
    timestamp: foxgloveTime(frame.capturedAtMs),
    frame_id: frame.stream,
    width: grid.width,
    height: grid.height,
    encoding: 'rgb8',
    step: grid.width * 3,
    data: Buffer.from(heatRgb(grid)).toString('base64'),
  };
  return Buffer.from(JSON.stringify(message), 'utf8');
}
