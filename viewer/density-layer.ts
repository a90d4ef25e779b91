/**
 * The crowd-density map over the focused picture: each `density` message's grid of bytes is
 * coloured once into a small canvas, which the layer scales over the region it covers.
 */
import type { DensityHeader } from '../servers/viewer-protocol/protocol.ts';
import { finite } from './format.ts';

/** A density grid bigger than this (cells a side) is not one the server sends: it is ignored. */
const MAX_DENSITY_SIDE = 1024;

/** The grid coloured, yellow to red as it gets hotter (as the overlay draws it); undefined when the message does not add up. */
export function densityImage(header: DensityHeader, grid: Uint8Array): HTMLCanvasElement | undefined {
  const { width, height, region } = header;
  const valid = Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0
    && width <= MAX_DENSITY_SIDE && height <= MAX_DENSITY_SIDE && grid.length === width * height
    && Array.isArray(region) && region.length === 4 && region.every((v) => finite(v) && v >= 0 && v <= 1)
    && region[0] < region[2] && region[1] < region[3];
  if (!valid) {
    console.warn('viewer: a density message that does not add up', header.stream, width, height, grid.length);
    return undefined;
  }
  const pixels = new ImageData(width, height);
  const rgba = pixels.data;
  for (let i = 0, o = 0; i < grid.length; i++, o += 4) {
    const heat = grid[i] / 255;
    if (heat < 0.05) continue;
    rgba[o] = 255;
    rgba[o + 1] = Math.round(220 * (1 - heat));
    rgba[o + 2] = 0;
    rgba[o + 3] = Math.round(60 + 170 * heat);
  }
  const image = document.createElement('canvas');
  image.width = width;
  image.height = height;
  image.getContext('2d')!.putImageData(pixels, 0, 0);
  return image;
}

/**
 * Draws `image` over `region` of a picture of `width x height` on `layer`, which takes the
 * picture's size and the same CSS (object-fit: contain), so it lines up with the picture.
 */
export function drawDensityLayer(layer: HTMLCanvasElement, header: DensityHeader, image: HTMLCanvasElement, width: number, height: number): void {
  if (layer.width !== width || layer.height !== height) {
    layer.width = width;
    layer.height = height;
  }
  const context = layer.getContext('2d')!;
  context.clearRect(0, 0, layer.width, layer.height);
  context.imageSmoothingEnabled = true;
  const [x1, y1, x2, y2] = header.region;
  context.drawImage(image, x1 * layer.width, y1 * layer.height, (x2 - x1) * layer.width, (y2 - y1) * layer.height);
  layer.dataset.seq = String(header.seq);
}
