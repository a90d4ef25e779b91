/**
 * The crowd-density map as the dashboard and Foxglove receive it: a small grid of bytes, 255 at
 * the densest cell, with the people per cell that 255 stands for. The model's stride-4 map is
 * summed in blocks down to at most {@link MAX_GRID_SIDE} cells a side, so a message stays a few
 * tens of KB at any input size. Made once per estimate (every few frames), whatever the number of
 * sinks and clients: the grid is kept per map.
 */
import type { DensityEstimate } from '../../pipeline/frame.ts';

/** The longest side of a grid, in cells. */
export const MAX_GRID_SIDE = 160;

export interface DensityGrid {
  readonly width: number;
  readonly height: number;
  /** Map cells (stride 4 of the model's input) summed into one grid cell, each way. */
  readonly block: number;
  /** Row-major, 0..255: a cell's people divided by `maxPerCell`, times 255. */
  readonly data: Uint8Array;
  /** People (calibrated) in the densest cell: what 255 stands for. 0 when the map is empty. */
  readonly maxPerCell: number;
}

const grids = new WeakMap<Float32Array, { readonly seq: number; readonly grid: DensityGrid }>();

/** The grid of an estimate, made once per estimate. */
export function densityGrid(density: DensityEstimate): DensityGrid {
  const kept = grids.get(density.map);
  if (kept && kept.seq === density.seq) return kept.grid;
  const grid = quantizeDensity(density.map, density.width, density.height, density.scale);
  grids.set(density.map, { seq: density.seq, grid });
  return grid;
}

/** Sums `block x block` cells of the map (the last ones partial), then scales the sums to bytes. */
export function quantizeDensity(map: Float32Array, width: number, height: number, scale = 1, maxSide = MAX_GRID_SIDE): DensityGrid {
  const block = Math.max(1, Math.ceil(Math.max(width, height) / maxSide));
  const gridWidth = Math.ceil(width / block);
  const gridHeight = Math.ceil(height / block);
  const sums = new Float32Array(gridWidth * gridHeight);
  for (let y = 0; y < height; y++) {
    const row = Math.floor(y / block) * gridWidth;
    for (let x = 0, i = y * width; x < width; x++, i++) sums[row + Math.floor(x / block)]! += map[i]!;
  }
  let max = 0;
  for (const v of sums) if (v > max) max = v;
  const data = new Uint8Array(sums.length);
  if (max > 0) for (let i = 0; i < sums.length; i++) data[i] = Math.round((Math.max(0, sums[i]!) / max) * 255);
  return { width: gridWidth, height: gridHeight, block, data, maxPerCell: max * scale };
}

/** Yellow to red as it gets hotter, black where nobody is: the overlay's heatmap colours, as RGB bytes. */
export function heatRgb(grid: DensityGrid): Uint8Array {
  const rgb = new Uint8Array(grid.data.length * 3);
  for (let i = 0, o = 0; i < grid.data.length; i++, o += 3) {
    const heat = grid.data[i]! / 255;
    if (heat < 0.05) continue;
    rgb[o] = Math.round(255 * heat);
    rgb[o + 1] = Math.round(220 * (1 - heat) * heat);
    rgb[o + 2] = 0;
  }
  return rgb;
}
