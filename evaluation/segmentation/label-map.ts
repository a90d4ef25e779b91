/**
 * Semantic label maps: one class index per pixel, stored as a PNG.
 *
 * Accepted: 8- or 16-bit (and 1/2/4-bit) greyscale, where the grey value is the class; palette
 * PNGs, where the palette *index* is the class (the colours are ignored); and RGB(A) files whose
 * three channels are equal everywhere, because several tools (sharp among them) save greyscale
 * as RGB. A colour-coded map (R, G, B differ) is rejected: its colours are not class indices.
 */
import { readFile } from 'node:fs/promises';
import { colorTypeName, decodePng, PngColorType } from './png-decode.ts';

export interface LabelMap {
  readonly width: number;
  readonly height: number;
  /** Class index per pixel, row-major. */
  readonly labels: Uint8Array | Uint16Array;
}

export async function readLabelMap(file: string): Promise<LabelMap> {
  const png = await decodePng(await readFile(file), file);
  const { width, height, channels, samples, colorType } = png;
  if (colorType === PngColorType.grey || colorType === PngColorType.palette) return { width, height, labels: samples };
  if (colorType === PngColorType.greyAlpha) return { width, height, labels: firstChannel(samples, channels, width * height) };
  // RGB or RGBA: only when it is greyscale in disguise.
  for (let i = 0, p = 0; p < width * height; p++, i += channels) {
    if (samples[i] !== samples[i + 1] || samples[i] !== samples[i + 2]) {
      const x = p % width;
      const y = Math.floor(p / width);
      throw new Error(
        `${file}: a label map must hold class indices (greyscale or palette PNG), but this ${colorTypeName(colorType)} ` +
          `PNG has colour (R, G, B) = (${samples[i]}, ${samples[i + 1]}, ${samples[i + 2]}) at x=${x}, y=${y}; ` +
          `convert colour-coded maps to class indices first`,
      );
    }
  }
  return { width, height, labels: firstChannel(samples, channels, width * height) };
}

function firstChannel(samples: Uint8Array | Uint16Array, channels: number, pixels: number): Uint8Array | Uint16Array {
  const out = samples instanceof Uint16Array ? new Uint16Array(pixels) : new Uint8Array(pixels);
  for (let p = 0, i = 0; p < pixels; p++, i += channels) out[p] = samples[i];
  return out;
}
