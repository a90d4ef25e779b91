/** Reading COCO panoptic PNGs (the id encoding is lib/formats/coco-panoptic-ids.ts). */
import { readFile } from 'node:fs/promises';
import { panopticIdOf } from '../../lib/formats/coco-panoptic-ids.ts';
import { colorTypeName, decodePng, PngColorType } from './png-decode.ts';

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
  for (let p = 0, i = 0; p < pixels; p++, i += channels) ids[p] = panopticIdOf(samples[i], samples[i + 1], samples[i + 2]);
  return { width, height, ids };
}
