/**
 * COCO panoptic PNGs: each pixel's RGB encodes its segment id, `id = R + 256·G + 256²·B`, and
 * id 0 is void (panopticapi's `rgb2id` / `id2rgb`).
 */
import { readFile } from 'node:fs/promises';
import { colorTypeName, decodePng, PngColorType } from './png-decode.ts';

/** The largest id an RGB pixel can hold. */
export const MAX_PANOPTIC_ID = 256 ** 3 - 1;

export interface PanopticIdMap {
  readonly width: number;
  readonly height: number;
  /** Segment id per pixel, row-major; 0 is void. */
  readonly ids: Uint32Array;
}

export async function readPanopticPng(file: string): Promise<PanopticIdMap> {
  const png = await decodePng(await readFile(file), file);
  const { width, height, channels, samples, colorType, bitDepth } = png;
  if ((colorType !== PngColorType.rgb && colorType !== PngColorType.rgba) || bitDepth !== 8) {
    throw new Error(
      `${file}: a COCO panoptic PNG must be 8-bit RGB (or RGBA) with id = R + 256·G + 256²·B; ` +
        `this one is ${bitDepth}-bit ${colorTypeName(colorType)}. Save the segment ids with panopticapi's id2rgb`,
    );
  }
  const pixels = width * height;
  const ids = new Uint32Array(pixels);
  for (let p = 0, i = 0; p < pixels; p++, i += channels) ids[p] = samples[i] | (samples[i + 1] << 8) | (samples[i + 2] << 16);
  return { width, height, ids };
}

/** Writes the RGB encoding of `ids` into `rgb` (`3 * ids.length` bytes). Ids must be ≤ {@link MAX_PANOPTIC_ID}. */
export function idsToRgb(ids: ArrayLike<number>, rgb: Uint8Array): void {
  for (let p = 0, i = 0; p < ids.length; p++, i += 3) {
    const id = ids[p];
    rgb[i] = id & 0xff;
    rgb[i + 1] = (id >> 8) & 0xff;
    rgb[i + 2] = (id >> 16) & 0xff;
  }
}
